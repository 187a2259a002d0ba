import { defineConfig } from 'vitest/config';

/**
 * Integration suites that speak to "the broker under test" only (testkit/broker-under-test.ts): the artemis project
 * runs them again on ActiveMQ Artemis. The others test RabbitMQ itself (its topology, TLS listener, cluster, the demo
 * broker's likeness to it) or are not about the broker (keychain, store, CLI).
 */
const BROKER_NEUTRAL_INTEGRATION = [
  'hub/hub-directory.int.test.ts',
  'hub/hub-routing.int.test.ts',
  'hub/hub-property-receipts.int.test.ts',
  'hub/hub-revocation.int.test.ts',
  'hub/hub-crl-continuity.int.test.ts',
  'hub/hub-failover.int.test.ts',
  'integration/workstation-round-trip.int.test.ts',
  'integration/offline-reports.int.test.ts',
  'integration/revocation.int.test.ts',
  'integration/connector.int.test.ts',
  'integration/connector-crash.int.test.ts',
];

/**
 * unit: *.test.ts beside the code, no outside services.
 * int:  *.int.test.ts, against the private broker and throw-away keychain that scripts/with-test-env.sh provides.
 * artemis: *.artemis.test.ts and the broker-neutral integration suites, against the private ActiveMQ Artemis,
 *          PostgreSQL and keychain that RTS_BROKER=artemis scripts/with-test-env.sh provides.
 * artemis-groups: *.artemis-groups.test.ts, against two live Artemis brokers in a cluster (scripts/with-artemis.sh
 *          --groups 2).
 * Browser tests are Playwright's (e2e/).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [
            '**/*.int.test.ts',
            '**/*.artemis.test.ts',
            '**/*.artemis-groups.test.ts',
            'node_modules/**',
            'dist/**',
            'e2e/**',
          ],
          environment: 'node',
          // Some unit tests start a process (the rts command, openssl): seconds each on a busy 2-core machine.
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', 'dist/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // The suites share one broker and one keychain; running them one file at a time keeps them independent.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'artemis',
          include: ['**/*.artemis.test.ts', ...BROKER_NEUTRAL_INTEGRATION],
          env: { RTS_BROKER: 'artemis' },
          exclude: ['node_modules/**', 'dist/**', '.tools/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One broker, which a test kills and restarts.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'artemis-groups',
          include: ['**/*.artemis-groups.test.ts'],
          exclude: ['node_modules/**', 'dist/**', '.tools/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
