#!/usr/bin/env bash
# npm run test:faults: broker kill -9, consumer kill -9, poison messages and torn writes on the broker RTS_BROKER names
# (rabbitmq, the default, or artemis), then failover: on a 3-node RabbitMQ cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/with-broker.sh node faults/run-faults.ts
if [[ ${RTS_BROKER:-rabbitmq} == artemis ]]; then
  echo "failover: not run on artemis: the test environment has no live/backup pair yet"
else
  bash scripts/with-test-env.sh --nodes 3 node faults/run-cluster-faults.ts
fi
