// Runs one real OpenSearch node in the foreground from jars on the classpath (no distribution
// tarball exists on Maven Central). The modules a distribution loads from modules/ are passed as
// classpath plugins, the way OpenSearch's own integration-test framework embeds a node.
// Usage: java -cp 'libs/*:launcher' OpenSearchLauncher <config dir holding opensearch.yml and log4j2.properties>
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public final class OpenSearchLauncher {
  private static final List<Class<? extends Plugin>> MODULES = List.of(
      Netty4Plugin.class, CommonAnalysisPlugin.class, MapperExtrasPlugin.class, ReindexPlugin.class, PainlessPlugin.class);

  /** Node's plugin-taking constructor is protected: a subclass is how embedders reach it. */
  private static final class EmbeddedNode extends Node {
    EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
      super(environment, plugins, true);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: OpenSearchLauncher <config dir>");
      System.exit(2);
    }
    Path configDir = Paths.get(args[0]).toAbsolutePath();
    Settings fileSettings = Settings.builder().loadFromPath(configDir.resolve("opensearch.yml")).build();
    Environment environment = InternalSettingsPreparer.prepareEnvironment(
        fileSettings, Map.of(), configDir, () -> fileSettings.get("node.name", "logstream"));
    LogConfigurator.registerErrorListener();
    LogConfigurator.setNodeName(environment.settings().get("node.name", "logstream"));
    LogConfigurator.configure(environment);

    Node node = new EmbeddedNode(environment, MODULES);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
        node.awaitClose(30, TimeUnit.SECONDS);
      } catch (Exception error) {
        error.printStackTrace();
      } finally {
        stopped.countDown();
      }
    }, "logstream-shutdown"));
    node.start();
    stopped.await();
  }
}
