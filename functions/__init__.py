"""Lambda handlers: thin wrappers that parse, call the core in `shared`, and deliver.

Cold start: in a Lambda container (the runtime sets AWS_LAMBDA_FUNCTION_NAME), importing a handler
pauses Python's cyclic garbage collector until its first invocation ends (`functions.runtime.cold_start`
resumes it). Loading pydantic, powertools, botocore, the models and the first event's AWS clients builds
about 150,000 long-lived objects and under 2,000 objects of cyclic garbage, yet the collector walks
the growing heap again and again while they load: about 90 ms of CPU of a 500 ms cold start on Python
3.12 (benchmarks/bench_pipeline.py, section 1b). What the imports and the first invocation built is frozen
(`gc.freeze`) before the collector resumes, so that no collection walks it later. Outside Lambda (tests,
the demo, the CLI) nothing changes.
"""

from __future__ import annotations

import gc
import os

# True from the import of a handler in a Lambda container until the end of its first invocation.
GC_PAUSED = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and gc.isenabled()
if GC_PAUSED:
    gc.disable()
