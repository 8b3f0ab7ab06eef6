// MLflow with basic auth: the stack's second MLflow (`mlflow server --app-name basic-auth`, admin
// password generated into the state dir) directly and through the nginx TLS front. Training
// publishes through it; a wrong or missing password and an unknown CA fail clearly; no secret lands
// in the run's parameters.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { createMlflowClient, type MlflowSettings } from '../../clients/mlflow/client.js';
import { MlflowAuthenticationError } from '../../clients/mlflow/errors.js';
import { TlsHandshakeError } from '../../clients/tls.js';
import type { PipelineConfig } from '../../config/schema.js';
import { generateTrainingData } from '../../generator/index.js';
import { mlflowAuthStack } from '../../infra/stack/services/mlflowAuth.js';
import { nginxFronts } from '../../infra/stack/services/nginx.js';
import { runTraining } from '../../training/trainingRun.js';
import { fileReference, stackTls } from '../helpers/secured.js';
import { requireService, uniqueName } from '../helpers/stack.js';

let config: PipelineConfig;

function direct(overrides: Partial<MlflowSettings> = {}): MlflowSettings {
  const stack = mlflowAuthStack(config);
  return { tracking_uri: stack.trackingUri, username: stack.username, password: fileReference(stack.passwordFile), ...overrides };
}

async function refusal(settings: MlflowSettings): Promise<Error> {
  try {
    await createMlflowClient(settings, { timeoutMs: 5_000 }).checkAccess();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected MLflow to refuse');
}

describe('MLflow with basic auth', { timeout: 180_000 }, () => {
  before(async () => {
    config = await requireService('mlflow-auth');
  });

  test('training logs a run and registers a model through the authenticated server, with no secret in its parameters', async () => {
    const settings = direct();
    const trained = await runTraining({
      config: {
        ...config,
        mlflow: { ...config.mlflow, ...settings, experiment: uniqueName('auth-test'), registered_model: uniqueName('auth-kmeans') },
        ml: { ...config.ml, k_min: 2, k_max: 3 },
      },
      events: generateTrainingData(2_000, 7),
      source: 'test:auth',
      holdoutRows: 2_000,
    });
    assert.ok(trained.published?.version.version, 'a registered version');
    const password = readFileSync(mlflowAuthStack(config).passwordFile, 'utf8').trim();
    const run = (await (
      await fetch(`${settings.tracking_uri}/api/2.0/mlflow/runs/get?run_id=${trained.published.run.runId}`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
      })
    ).json()) as { run: { data: { params?: Array<{ key: string; value: string }> } } };
    const params = run.run.data.params ?? [];
    assert.ok(
      params.some((param) => param.key === 'k_min'),
      JSON.stringify(params),
    );
    assert.ok(!JSON.stringify(params).includes(password), 'the password is not a parameter');
  });

  test('a wrong password, or none, is refused with the user and the keys named', async () => {
    const wrong = await refusal(direct({ password: 'not-the-password' }));
    assert.ok(wrong instanceof MlflowAuthenticationError, `${wrong.name}: ${wrong.message}`);
    assert.match(wrong.message, /MLflow at http:\/\/127\.0\.0\.1:\d+ refused the request as user "admin" \(HTTP 401/);
    assert.match(wrong.hint ?? '', /mlflow\.password/);
    assert.ok(!wrong.message.includes('not-the-password'));
    const anonymous = await refusal(direct({ username: undefined, password: undefined }));
    assert.ok(anonymous instanceof MlflowAuthenticationError && /without credentials/.test(anonymous.message), anonymous.message);
  });

  test('training stops before it starts when the registry refuses the credentials', async () => {
    await assert.rejects(
      runTraining({
        config: { ...config, mlflow: { ...config.mlflow, ...direct({ password: 'wrong' }) } },
        events: generateTrainingData(200, 1),
      }),
      MlflowAuthenticationError,
    );
  });

  test('over https through the TLS front: the stack CA verifies it, without it the certificate is refused', async (t) => {
    if (
      !(await requireService('nginx', config).then(
        () => true,
        () => false,
      ))
    )
      return t.skip('nginx is not running (logstream stack up nginx)');
    const tls = direct({ tracking_uri: nginxFronts(config).mlflowUrl, tls_ca_file: stackTls(config).ca });
    await createMlflowClient(tls).checkAccess();
    const unverified = await refusal({ ...tls, tls_ca_file: undefined });
    assert.ok(
      unverified instanceof TlsHandshakeError && unverified.side === 'server-certificate',
      `${unverified.name}: ${unverified.message}`,
    );
    assert.match(unverified.hint ?? '', /mlflow\.tls_ca_file/);
  });
});
