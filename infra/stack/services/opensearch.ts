// OpenSearch 2.19, the default search engine of the local stack: one node on 127.0.0.1:9200
// (transport 9300), no security plugin, assembled from Maven Central jars (infra/search/opensearch/).
import { searchNodeService } from '../../search/javaSearchNode.js';
import type { ServiceSpec } from '../service.js';

export const openSearchVersion = '2.19.6';
const localUrl = 'http://127.0.0.1:9200';

export const opensearchService: ServiceSpec = {
  ...searchNodeService({
    name: 'opensearch',
    description: `OpenSearch ${openSearchVersion}, one node (default search engine)`,
    sourceFolder: 'opensearch',
    settingsFile: 'opensearch.yml',
    launcherClass: 'OpenSearchLauncher',
    version: openSearchVersion,
    httpPort: 9200,
    transportPort: 9300,
    searchSettings: (config) =>
      config.elasticsearch.host.replace(/\/+$/, '') === localUrl ? { ...config.elasticsearch, kind: 'opensearch' } : config.elasticsearch,
    // The node the stack starts is 2.19; a user's own engine (elasticsearch.host set) is whatever
    // elasticsearch.kind says (the client checks that), any version.
    isExpectedHealth: (health, _config, baseUrl) => baseUrl !== localUrl || health.version.startsWith('2.19.'),
    extraJvmFlags: [],
  }),
  // A user who points elasticsearch.host somewhere runs their own engine there.
  externalKey: 'elasticsearch.host',
};
