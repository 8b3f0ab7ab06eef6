// Elasticsearch 7.17, optional (`logstream stack up elasticsearch`), to test the Elasticsearch
// client path: one node on 127.0.0.1:9201 (transport 9301), assembled from Maven Central jars
// (infra/search/elasticsearch/). It has no ILM: x-pack is not published on Maven Central.
import { searchNodeService } from '../../search/javaSearchNode.js';
import type { ServiceSpec } from '../service.js';

export const elasticsearchVersion = '7.17.29';

export const elasticsearchService: ServiceSpec = {
  ...searchNodeService({
    name: 'elasticsearch',
    description: `Elasticsearch ${elasticsearchVersion}, one node (optional, for the Elasticsearch client path)`,
    sourceFolder: 'elasticsearch',
    settingsFile: 'elasticsearch.yml',
    launcherClass: 'ElasticsearchLauncher',
    version: elasticsearchVersion,
    httpPort: 9201,
    transportPort: 9301,
    // The @elastic/elasticsearch client itself refuses a server without the x-elastic-product header.
    isExpectedHealth: (health) => health.version.startsWith('7.17.'),
    extraJvmFlags: [],
  }),
  optional: true,
};
