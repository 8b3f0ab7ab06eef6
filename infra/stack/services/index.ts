// Every service of the local stack, in start order. Adding a service is one line here.
import type { ServiceSpec } from '../service.js';
import { kafkaService } from './kafka.js';
import { elasticsearchService } from './elasticsearch.js';
import { mlflowService } from './mlflow.js';
import { mlflowAuthService } from './mlflowAuth.js';
import { nginxService } from './nginx.js';
import { opensearchService } from './opensearch.js';
import { prometheusService } from './prometheus.js';
import { s3Service } from './s3.js';
import { temporalService } from './temporal.js';

export const stackServices: readonly ServiceSpec[] = [
  temporalService,
  kafkaService,
  mlflowService,
  prometheusService,
  opensearchService,
  elasticsearchService,
  s3Service,
  mlflowAuthService,
  // Last: its fronts proxy to the services above.
  nginxService,
];
