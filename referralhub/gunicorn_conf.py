"""gunicorn's settings for the hub's app servers, read with
`gunicorn -c python:referralhub.gunicorn_conf referralhub.wsgi` (docs/operations.md).

gunicorn's own default is one worker: one slow page would hold up every webhook behind it.
Measured on 2 cores (docs/performance.md): sync workers at 2 x cores + 1 beat gthread, because a
delivery is CPU-bound Python plus short database round trips. Each worker holds one database
connection. `WEB_CONCURRENCY` sets another worker count, as gunicorn's own default honours it.
"""

import os

CORES = os.cpu_count() or 2

worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * CORES + 1))
threads = 1
# No access log (gunicorn's default, kept on purpose): webhook URLs carry their endpoint's token.
accesslog = None
