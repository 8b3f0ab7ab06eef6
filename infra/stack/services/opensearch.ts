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
    url: (config) => config.elasticsearch.host,
    credentials: (config) =>
      config.elasticsearch.username
        ? { username: config.elasticsearch.username, password: config.elasticsearch.password ?? '' }
        : undefined,
    isExpectedRoot: (root, config, baseUrl) => {
      if (baseUrl === localUrl) return root.version?.distribution === 'opensearch' && (root.version.number ?? '').startsWith('2.19.');
      // A user's own engine (elasticsearch.host set) is whatever elasticsearch.kind says, any version.
      if (config.elasticsearch.kind === 'elasticsearch') return root.productHeader === 'Elasticsearch';
      return root.version?.distribution === 'opensearch';
    },
    extraJvmFlags: [],
  }),
  // A user who points elasticsearch.host somewhere runs their own engine there.
  externalKey: 'elasticsearch.host',
};
