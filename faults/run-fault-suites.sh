#!/usr/bin/env bash
# npm run test:faults: broker kill -9, consumer kill -9, poison messages and torn writes on the broker RTS_BROKER names
# (rabbitmq, the default, or artemis), then failover: on a 3-node RabbitMQ cluster, or an Artemis primary/backup pair.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/with-broker.sh node faults/run-faults.ts
if [[ ${RTS_BROKER:-rabbitmq} == artemis ]]; then
  bash scripts/with-artemis.sh --pair node faults/run-cluster-faults.ts
else
  bash scripts/with-test-env.sh --nodes 3 node faults/run-cluster-faults.ts
fi
