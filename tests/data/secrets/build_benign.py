"""Writes benign.log: realistic log lines that hold no secret (the false-positive corpus).

Run `python tests/data/secrets/build_benign.py` after editing; the output is committed so the
tests read a fixed file. Lines are drawn from templates of what ECS services really print (access
logs, framework start-up, Java/Python/Node/Go stack traces, AWS SDK and agent output, JSON logs)
filled with seeded random ids: UUIDs, git SHAs, image digests, ARNs, request and trace ids.
Some lines name secrets without holding one (`KeyError: 'DB_PASSWORD'`, IAM actions, secret ARNs):
redaction must leave those readable because the diagnosis quotes them.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

R = random.Random(20240501)
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"
ACCOUNTS = ["111122223333", "845828040396", "012345678901", "555566667777"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]
SERVICES = ["orders-api", "billing-worker", "web", "checkout", "search-indexer", "notifications", "auth-svc"]
PATHS = ["/health", "/healthz", "/api/v1/orders", "/api/v1/orders/{n}", "/api/v2/users/{n}/profile", "/metrics",
         "/static/js/main.{h8}.js", "/login", "/graphql", "/api/v1/search?q=shoes&page={d}", "/favicon.ico",
         "/api/v1/carts/{uuid}/items", "/ready", "/_next/static/chunks/{h8}.js", "/oauth/callback?state={h16}"]
AGENTS = ["ELB-HealthChecker/2.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36", "curl/8.4.0", "kube-probe/1.29", "python-requests/2.31.0",
          "Go-http-client/1.1", "okhttp/4.12.0", "Amazon CloudFront"]


def h(n: int) -> str:
    return "".join(R.choice(HEX) for _ in range(n))


def b64(n: int) -> str:
    return "".join(R.choice(B64) for _ in range(n))


def uuid() -> str:
    return f"{h(8)}-{h(4)}-4{h(3)}-{R.choice('89ab')}{h(3)}-{h(12)}"


def ip() -> str:
    return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def pub_ip() -> str:
    return f"{R.randint(3, 223)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def ts() -> str:
    return f"2024-05-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"


def acct() -> str:
    return R.choice(ACCOUNTS)


def region() -> str:
    return R.choice(REGIONS)


def svc() -> str:
    return R.choice(SERVICES)


def path() -> str:
    return R.choice(PATHS).format(n=R.randint(1, 99999), h8=h(8), h16=h(16), d=R.randint(1, 9), uuid=uuid())


def digest() -> str:
    return "sha256:" + h(64)


def image() -> str:
    return f"{acct()}.dkr.ecr.{region()}.amazonaws.com/{svc()}:{R.randint(1, 3)}.{R.randint(0, 20)}.{R.randint(0, 9)}"


def task_arn() -> str:
    return f"arn:aws:ecs:{region()}:{acct()}:task/prod/{h(32)}"


def xray() -> str:
    return f"1-{h(8)}-{h(24)}"


GEN = []


def gen(weight: int):
    def deco(fn):
        GEN.append((weight, fn))
        return fn
    return deco


@gen(8)
def nginx_access():
    return (f'{ip()} - - [{R.randint(1, 28):02d}/May/2024:{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d} '
            f'+0000] "{R.choice(["GET", "POST", "PUT", "DELETE"])} {path()} HTTP/1.1" {R.choice([200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 502])} '
            f'{R.randint(0, 50000)} "-" "{R.choice(AGENTS)}" rt={R.random():.3f} uct="0.000" request_id={h(32)}')


@gen(4)
def alb_access():
    return (f'https {ts()} app/{svc()}-alb/{h(16)} {pub_ip()}:{R.randint(1024, 65535)} {ip()}:8080 0.001 0.{R.randint(10, 999)} 0.000 '
            f'200 200 {R.randint(100, 900)} {R.randint(100, 90000)} "GET https://{svc()}.example.com:443{path()} HTTP/1.1" '
            f'"{R.choice(AGENTS)}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:{region()}:{acct()}:'
            f'targetgroup/{svc()}-tg/{h(16)} "Root={xray()}" "{svc()}.example.com" '
            f'"arn:aws:acm:{region()}:{acct()}:certificate/{uuid()}" 0 {ts()} "forward" "-" "-" "{ip()}:8080" "200" "-" "-"')


@gen(4)
def json_pino():
    return json.dumps({
        "level": R.choice([30, 30, 40]), "time": 1714550000000 + R.randint(0, 10**8), "pid": 1,
        "hostname": f"ip-{ip().replace('.', '-')}.ec2.internal", "reqId": "req-" + b64(6).replace("+", "a").replace("/", "b"),
        "req": {"method": "GET", "url": path(), "remoteAddress": ip()}, "res": {"statusCode": 200},
        "responseTime": round(R.random() * 200, 3), "msg": "request completed"}, separators=(",", ":"))


@gen(4)
def json_structlog():
    return json.dumps({
        "event": R.choice(["order created", "payment captured", "cache miss", "job finished", "email queued",
                           "token refreshed", "session started", "retrying request"]),
        "level": R.choice(["info", "info", "warning", "debug"]), "timestamp": ts(), "request_id": uuid(),
        "user_id": R.randint(1, 10**6), "duration_ms": R.randint(1, 5000), "trace_id": h(32), "span_id": h(16)})


@gen(3)
def json_logback():
    return json.dumps({
        "@timestamp": ts(), "@version": "1",
        "message": R.choice(["Completed 200 OK", f"Fetching order {R.randint(1, 99999)}", "HikariPool-1 - Start completed.",
                             f"Cache hit ratio 0.{R.randint(10, 99)}"]),
        "logger_name": "com.acme." + R.choice(["orders.OrderController", "billing.InvoiceService", "web.RequestLoggingFilter"]),
        "thread_name": f"http-nio-8080-exec-{R.randint(1, 200)}", "level": "INFO", "level_value": 20000,
        "traceId": h(32), "spanId": h(16)}, separators=(",", ":"))


SPRING = [
    "Starting {App}Application v{v} using Java 17.0.{d} with PID 1 (/app/app.jar started by root in /app)",
    "No active profile set, falling back to 1 default profile: \"default\"",
    "The following 1 profile is active: \"prod\"",
    "Bootstrapping Spring Data JPA repositories in DEFAULT mode.",
    "Finished Spring Data repository scanning in {d}{d} ms. Found {d} JPA repository interfaces.",
    "Tomcat initialized with port 8080 (http)",
    "Starting service [Tomcat]",
    "Starting Servlet engine: [Apache Tomcat/10.1.{d}{d}]",
    "Initializing Spring embedded WebApplicationContext",
    "Root WebApplicationContext: initialization completed in {d}{d}{d}{d} ms",
    "HHH000204: Processing PersistenceUnitInfo [name: default]",
    "HHH000412: Hibernate ORM core version 6.4.{d}.Final",
    "HikariPool-1 - Starting...",
    "HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@{h8}",
    "HikariPool-1 - Start completed.",
    "Exposing 1 endpoint(s) beneath base path '/actuator'",
    "Tomcat started on port 8080 (http) with context path ''",
    "Started {App}Application in {d}.{d}{d}{d} seconds (process running for {d}.{d}{d})",
    "Will secure any request with [org.springframework.security.web.session.DisableEncodeUrlFilter@{h8}]",
    "spring.jpa.open-in-view is enabled by default. Therefore, database queries may be performed during view rendering.",
]


@gen(6)
def spring():
    tpl = R.choice(SPRING)
    line = tpl.format(App=R.choice(["Orders", "Billing", "Gateway"]), v=f"1.{R.randint(0, 9)}.{R.randint(0, 9)}",
                      d=R.randint(1, 9), h8=h(8))
    return f"{ts().replace('T', ' ')[:-1]}  INFO 1 --- [{R.choice(['main', 'restartedMain'])}] o.s.b.w.embedded.tomcat.TomcatWebServer  : {line}"


JAVA_TRACE = [
    "java.lang.IllegalStateException: Failed to load ApplicationContext",
    "\tat org.springframework.test.context.cache.DefaultCacheAwareContextLoaderDelegate.loadContext(DefaultCacheAwareContextLoaderDelegate.java:180)",
    "\tat com.acme.orders.OrderService.create(OrderService.java:{n})",
    "\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
    "\tat java.base/java.lang.Thread.run(Thread.java:840)",
    "Caused by: org.postgresql.util.PSQLException: Connection to db.internal:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.",
    "Caused by: java.net.SocketTimeoutException: Connect timed out",
    "\t... {n} common frames omitted",
    "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'entityManagerFactory' defined in class path resource [org/springframework/boot/autoconfigure/orm/jpa/HibernateJpaConfiguration.class]",
    "Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user \"orders\"",
    "com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: FATAL: password authentication failed for user \"billing\"",
    "java.lang.OutOfMemoryError: Java heap space",
    "Exception in thread \"main\" java.lang.NoClassDefFoundError: org/slf4j/LoggerFactory",
    "\tat io.netty.channel.nio.NioEventLoop.run(NioEventLoop.java:569)",
    "Caused by: software.amazon.awssdk.services.secretsmanager.model.SecretsManagerException: User: arn:aws:sts::{acct}:assumed-role/{svc}-task-role/{h32} is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/{svc}/db because no identity-based policy allows the secretsmanager:GetSecretValue action (Service: SecretsManager, Status Code: 400, Request ID: {uuid})",
    "Caused by: software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain",
]


@gen(6)
def java():
    return R.choice(JAVA_TRACE).format(n=R.randint(10, 400), acct=acct(), svc=svc(), h32=h(32), uuid=uuid())


PY = [
    "Traceback (most recent call last):",
    '  File "/app/main.py", line {n}, in <module>',
    '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line {n}, in _execute_context',
    '    return self._engine.raw_connection()',
    "    raise KeyError(key) from None",
    "KeyError: 'DB_PASSWORD'",
    "KeyError: 'STRIPE_SECRET_KEY'",
    "KeyError: 'AWS_SECRET_ACCESS_KEY'",
    "ModuleNotFoundError: No module named 'psycopg2'",
    "psycopg2.OperationalError: connection to server at \"db.internal\" ({ip}), port 5432 failed: FATAL:  password authentication failed for user \"orders\"",
    "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at \"orders-db.cluster-{h12}.{region}.rds.amazonaws.com\" ({ip}), port 5432 failed: Connection timed out",
    "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings",
    "db_password",
    "  Field required [type=missing, input_value={{'db_host': 'db.internal', 'db_user': 'orders'}}, input_type=dict]",
    "    For further information visit https://errors.pydantic.dev/2.7/v/missing",
    "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:sts::{acct}:assumed-role/{svc}-task/{h32} is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:{region}:{acct}:secret:prod/{svc}/db-password-{b6} because no identity-based policy allows the secretsmanager:GetSecretValue action",
    "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
    "botocore.exceptions.ClientError: An error occurred (ExpiredTokenException) when calling the GetCallerIdentity operation: The security token included in the request is expired",
    "[{date} +0000] [1] [INFO] Starting gunicorn 22.0.0",
    "[{date} +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)",
    "[{date} +0000] [1] [INFO] Using worker: uvicorn.workers.UvicornWorker",
    "[{date} +0000] [{n}] [INFO] Booting worker with pid: {n}",
    "[{date} +0000] [1] [ERROR] Worker (pid:{n}) was sent SIGKILL! Perhaps out of memory?",
    "INFO:     Started server process [1]",
    "INFO:     Waiting for application startup.",
    "INFO:     Application startup complete.",
    "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    'INFO:     {ip}:{port} - "GET /health HTTP/1.1" 200 OK',
    "{date},{ms} INFO [celery.worker.strategy] Task orders.tasks.send_receipt[{uuid}] received",
    "{date},{ms} INFO [celery.app.trace] Task orders.tasks.send_receipt[{uuid}] succeeded in 0.{n}s: None",
    "{date},{ms} WARNING [django.request] Not Found: /wp-login.php",
    "{date},{ms} INFO [botocore.credentials] Found credentials from IAM Role: {svc}-task-role",
    "{date},{ms} INFO [botocore.credentials] Found credentials in environment variables.",
    "Watching for file changes with StatReloader",
    "Performing system checks...",
    "System check identified no issues (0 silenced).",
    "Django version 5.0.{d}, using settings 'config.settings.production'",
    "Applying orders.{n4}_auto_{date8}... OK",
]


@gen(9)
def python():
    return R.choice(PY).format(n=R.randint(2, 900), ip=ip(), h12=h(12), region=region(), acct=acct(), svc=svc(),
                               h32=h(32), b6=b64(6).replace("+", "Q").replace("/", "z"),
                               date=ts().replace("T", " ")[:19], ms=R.randint(100, 999), uuid=uuid(), port=R.randint(30000, 60000),
                               d=R.randint(1, 9), n4=f"{R.randint(1, 60):04d}", date8=ts()[:10].replace("-", "_"))


NODE = [
    "Error: Cannot find module 'express'",
    "Require stack:",
    "- /usr/src/app/server.js",
    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)",
    "    at Module._load (node:internal/modules/cjs/loader:986:27)",
    "    at Object.<anonymous> (/usr/src/app/dist/index.js:{n}:{n})",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    "  code: 'MODULE_NOT_FOUND',",
    "Node.js v20.{d}.0",
    "Error: listen EADDRINUSE: address already in use :::3000",
    "Error: connect ECONNREFUSED {ip}:5432",
    "Error: getaddrinfo ENOTFOUND orders-db.cluster-{h12}.{region}.rds.amazonaws.com",
    "error: password authentication failed for user \"app\"",
    "> {svc}@1.{d}.0 start",
    "> node dist/index.js",
    "Server listening on http://0.0.0.0:3000",
    "  ▲ Next.js 14.2.{d}",
    "  - Local:        http://{h12}:3000",
    "  - Network:      http://{ip}:3000",
    " ✓ Ready in {n}ms",
    "npm WARN config production Use `--omit=dev` instead.",
    "npm ERR! code ELIFECYCLE",
    "[Nest] 1  - 05/01/2024, 10:00:0{d} AM     LOG [NestFactory] Starting Nest application...",
    "[Nest] 1  - 05/01/2024, 10:00:0{d} AM     LOG [InstanceLoader] ConfigModule dependencies initialized +{n}ms",
    "[Nest] 1  - 05/01/2024, 10:00:0{d} AM     LOG [RoutesResolver] AuthController {{/auth}}: +1ms",
    "[Nest] 1  - 05/01/2024, 10:00:0{d} AM     LOG [RouterExplorer] Mapped {{/auth/refresh-token, POST}} route +0ms",
    "(node:1) UnhandledPromiseRejectionWarning: MongoNetworkError: failed to connect to server [cluster0-shard-00-01.ab1cd.mongodb.net:27017] on first connect",
    "TypeError: Cannot read properties of undefined (reading 'token')",
    "    at AuthService.verify (/usr/src/app/dist/auth/auth.service.js:{n}:{n})",
]


@gen(7)
def node():
    return R.choice(NODE).format(n=R.randint(2, 400), d=R.randint(0, 9), ip=ip(), h12=h(12), region=region(), svc=svc())


GO = [
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x{h6}]",
    "goroutine 1 [running]:",
    "main.main()",
    "\t/src/cmd/server/main.go:{n} +0x{h3}",
    "github.com/acme/orders/internal/db.Open({{0xc000{h6}, 0x{h2}}})",
    "exit status 2",
    'time="{ts}" level=info msg="starting server" addr=":8080" version={v} commit={sha}',
    'time="{ts}" level=error msg="dial tcp {ip}:5432: connect: connection timed out"',
    '{{"level":"info","ts":{epoch}.{n},"caller":"server/main.go:{n}","msg":"listening","addr":":8080","build":"{sha7}"}}',
    "{date} [INFO] consul: adding server ip-{ipd}.ec2.internal (Addr: tcp/{ip}:8300) (DC: dc1)",
]


@gen(5)
def go():
    return R.choice(GO).format(n=R.randint(10, 500), h6=h(6), h3=h(3), h2=h(2), ts=ts(), v=f"v1.{R.randint(0, 30)}.{R.randint(0, 9)}",
                               sha=h(40), sha7=h(7), ip=ip(), epoch=1714550000 + R.randint(0, 10**6), date=ts()[:19].replace("T", " "),
                               ipd=ip().replace(".", "-"))


AWS = [
    "Assuming role arn:aws:iam::{acct}:role/{svc}-task-role with session name {svc}-{h8}",
    "Fetching secret arn:aws:secretsmanager:{region}:{acct}:secret:prod/{svc}/db-password-{b6} (version AWSCURRENT)",
    "Loaded 4 parameters from SSM path /prod/{svc}/ (names: DB_HOST, DB_USER, DB_PASSWORD, JWT_SECRET)",
    "User: arn:aws:sts::{acct}:assumed-role/ecsTaskExecutionRole/{h32} is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:{region}:{acct}:parameter/prod/{svc}/DB_PASSWORD",
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch secret arn:aws:secretsmanager:{region}:{acct}:secret:prod/{svc}-{b6} from secrets manager: AccessDeniedException",
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.{region}.amazonaws.com/\": dial tcp {pub}:443: i/o timeout",
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {image}: not found",
    "Pulling image {image}@{digest}",
    "Digest: {digest}",
    "Status: Downloaded newer image for {image}",
    "Image {image} resolved to {digest}",
    "x-amz-request-id: {H16}, x-amz-id-2: {b76}=",
    "RequestId: {uuid} Duration: {n}.{n} ms Billed Duration: {n} ms Memory Size: 512 MB Max Memory Used: {n} MB",
    "START RequestId: {uuid} Version: $LATEST",
    "X-Amzn-Trace-Id: Root={xray};Parent={h16};Sampled=1",
    "Task {task} stopped: Essential container in task exited",
    "Registered container instance arn:aws:ecs:{region}:{acct}:container-instance/prod/{h32}",
    "Attached ENI eni-0{h16} to task {h32} in subnet-0{h16} (sg-0{h16}, vpc-0{h16})",
    "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/{h32}-{n}",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/{uuid}",
    "Uploaded s3://{svc}-artifacts-{acct}/builds/{sha}/app.tar.gz (ETag \"{h32}\")",
    "KMS key arn:aws:kms:{region}:{acct}:key/{uuid} used to decrypt the secret",
    "Using KMS key alias/{svc}-secrets for envelope encryption",
    "Deployment ecs-svc/{n19} of service {svc} reached steady state",
    "service {svc} (deployment ecs-svc/{n19}) deployment failed: tasks failed to start.",
    "Target group arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{svc}-tg/{h16}: target {ip}:8080 is unhealthy: Health checks failed with these codes: [502]",
    "SecretsManager GetSecretValue succeeded for SecretId=prod/{svc}/db (VersionId {uuid})",
    "CloudWatch log stream ecs/{svc}/{h32} created in group /ecs/prod/{svc}",
    "Put {n} log events to /aws/ecs/containerinsights/prod/performance (nextSequenceToken 4964{n19}{n19})",
    "An error occurred (ThrottlingException) when calling the DescribeTasks operation (reached max retries: 4): Rate exceeded",
    "Role session {svc}@{h8} expires at {ts}; refreshing credentials 300s early",
    "sts:AssumeRole succeeded: AssumedRoleId=AROA{UP16}:{svc}-{h8}",
]


@gen(12)
def aws():
    return R.choice(AWS).format(acct=acct(), svc=svc(), h8=h(8), region=region(), b6=b64(6).replace("+", "Q").replace("/", "z"),
                                h32=h(32), pub=pub_ip(), image=image(), digest=digest(), H16=h(16).upper(),
                                b76=b64(76), uuid=uuid(), n=R.randint(1, 999), xray=xray(), h16=h(16), task=task_arn(),
                                ip=ip(), sha=h(40), n19=str(R.randint(10**18, 10**19 - 1)), ts=ts(),
                                UP16="".join(R.choice(string.ascii_uppercase + string.digits) for _ in range(16)))


GIT = [
    "Deploying commit {sha} ({branch}) by github-actions[bot]",
    "Build {n} from {sha7} on branch {branch} finished in {n}s",
    "version={v}+g{sha7} commit={sha} built={ts}",
    "HEAD is now at {sha7} Merge pull request #{n} from acme/{branch}",
    "git-sha: {sha}",
    "Cache key: node-modules-{sha}-{h8}",
    "docker buildx build --cache-from type=registry,ref={image} -t {image} .",
    "#{n} exporting manifest {digest} done",
    "#{n} writing image {digest} done",
    "#{n} naming to {image} done",
    "Release {v} published (tag v{v}, target {sha})",
]


@gen(5)
def git():
    return R.choice(GIT).format(sha=h(40), sha7=h(7), branch=R.choice(["main", "release/2024.05", "feature/checkout-v2", "hotfix/login"]),
                                n=R.randint(1, 9999), v=f"{R.randint(1, 5)}.{R.randint(0, 30)}.{R.randint(0, 20)}", ts=ts(),
                                h8=h(8), image=image(), digest=digest())


MISC = [
    "Connecting to postgresql://{db}:5432/orders as user orders (sslmode=require)",
    "Connecting to redis://cache.prod.internal:6379/0",
    "Connected to mongodb+srv://cluster0.ab1cd.mongodb.net/app?retryWrites=true&w=majority",
    "Kafka consumer group orders-consumer joined (member id consumer-orders-1-{uuid}, generation {n})",
    "Committed offset {n}{n} for partition orders-events-{d}",
    "amqp: connected to amqps://b-{uuid}.mq.{region}.amazonaws.com:5671 (vhost /)",
    "Webhook delivered to https://hooks.example.com/ci/notify (200 in {n} ms)",
    "Fetched https://api.github.com/repos/acme/orders/commits/{sha} (200, rate limit remaining {n})",
    "GET https://api.stripe.com/v1/payment_intents/pi_{A24} 200 (idempotency key {uuid})",
    "Stripe event evt_{A24} of type payment_intent.succeeded received",
    "Payment method pm_{A24} attached to customer cus_{A14}",
    "Session {h32} created for user {n}",
    "Issued access token for client orders-web (expires_in=3600, token_type=Bearer, scope=\"read write\")",
    "Token refresh succeeded for user {n}; next refresh in 3300s",
    "Invalid token provided for request {uuid}: signature expired",
    "Missing bearer token on /api/v1/orders (401)",
    "Basic authentication is disabled; use OAuth 2.0",
    "Password reset email queued for user {n}",
    "Password policy: min length 12, require symbols",
    "password_file=/run/secrets/db_password",
    "secret_name=prod/{svc}/db region={region}",
    "max_tokens=1024 prompt_tokens={n} completion_tokens={n} total_tokens={n}",
    "Rotating API keys: 3 active, 1 pending deletion (key ids: {h8}, {h8}, {h8})",
    "Missing required environment variable STRIPE_API_KEY; see README",
    "Environment: NODE_ENV=production PORT=3000 LOG_LEVEL=info DB_HOST=db.internal DB_USER=orders",
    "HOSTNAME={h12}",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    "PYTHON_VERSION=3.12.{d}",
    "DB_PASSWORD_SECRET_ARN=arn:aws:secretsmanager:{region}:{acct}:secret:prod/{svc}/db-{b6}",
    "JWT_SECRET_NAME=prod/{svc}/jwt",
    "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305",
    "Feature flags: checkout_v2=on, new_search=off, dark_mode=on",
    "Scheduled job cleanup-sessions every 15m (next run {ts})",
    "Processed batch {uuid}: {n} records, {n} ms, 0 errors",
    "cursor=eyJpZCI6{A14}fQ next page requested",
    "etag W/\"{h8}-{h16}\" matched, returning 304",
    "Set-Cookie: locale=en-GB; Path=/; Max-Age=31536000; SameSite=Lax",
    "Upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: _, request: \"GET {path} HTTP/1.1\", upstream: \"http://127.0.0.1:8000{path}\"",
    "OOMKilled: container app used {n} MiB of 1024 MiB",
    "Health check passed: GET http://localhost:8080/health -> 200 in {n}ms",
    "Listening on 0.0.0.0:8080 (pid 1, {d} workers)",
    "SIGTERM received, draining {n} connections",
    "Shutdown complete in {n}ms",
    "Error: ENOSPC: no space left on device, write '/tmp/upload-{uuid}'",
    "mount: /data: mount(2) system call failed: Connection timed out (fs-0{h16}.efs.{region}.amazonaws.com)",
    "[{ts}] WARN Slow query ({n} ms): SELECT id, status FROM orders WHERE customer_id = $1 AND created_at > $2",
    "Loaded TLS certificate CN=*.example.com, serial 0x{h16}, expires 2025-05-01",
    "Public key fingerprint SHA256:{b43}",
    "ssh-ed25519 key fingerprint is SHA256:{b43}",
    "Received message {uuid} from queue https://sqs.{region}.amazonaws.com/{acct}/{svc}-jobs (receive count 1)",
    "Published message {uuid} to arn:aws:sns:{region}:{acct}:{svc}-events",
    "Counter: req_total{{route=\"{path}\",status=\"200\"}} {n}",
    "Correlation-Id: {uuid} Span: {h16} Parent: {h16}",
    "Using request id {b22} for idempotency",
    "DynamoDB ConsumedCapacity 0.5 for table {svc}-sessions (LastEvaluatedKey: {{\"pk\": \"USER#{n}\"}})",
]


@gen(16)
def misc():
    return R.choice(MISC).format(db=R.choice(["db.internal", f"orders-db.cluster-{h(12)}.{region()}.rds.amazonaws.com"]),
                                 uuid=uuid(), n=R.randint(1, 9999), d=R.randint(0, 9), region=region(), sha=h(40),
                                 A24="".join(R.choice(string.ascii_letters + string.digits) for _ in range(24)),
                                 A14="".join(R.choice(string.ascii_letters + string.digits) for _ in range(14)),
                                 h32=h(32), h8=h(8), h12=h(12), h16=h(16), svc=svc(), acct=acct(), ts=ts(), ip=ip(),
                                 b6=b64(6).replace("+", "Q").replace("/", "z"), path=path(),
                                 b43=b64(43), b22=b64(22).replace("+", "-").replace("/", "_"))


# Lines that talk about secrets without holding one: the diagnosis quotes many of them.
HARD = [
    "FATAL:  password authentication failed for user \"{user}\"",
    "FATAL: password authentication failed for user \"{user}\"; Connection matched pg_hba.conf line 99: \"host all all all md5\"",
    "Access denied for user '{user}'@'{ip}' (using password: YES)",
    "Access denied for user '{user}'@'{ip}' (using password: NO)",
    "MongoServerError: Authentication failed.",
    "sasl: SCRAM-SHA-256 authentication failed for user {user}",
    "Authentication token expired, re-authenticating",
    "Refreshing auth token for role {svc}-task-role",
    "Retrieved secret value for prod/{svc}/db (length 24)",
    "Passwords do not match",
    "Password reset link sent to user {n}",
    "credentials: using role arn:aws:iam::{acct}:role/{svc}-task-role",
    "token: expired",
    "auth=ok user_id={n} method=oidc",
    "token_endpoint=https://auth.example.com/oauth2/token issuer=https://auth.example.com/",
    "OIDC discovery: token_endpoint=https://login.example.com/oauth2/v2.0/token jwks_uri=https://login.example.com/discovery/keys",
    "session_token_duration=3600 refresh_interval=300",
    "csrf_token_header=X-CSRF-Token csrf_cookie_name=csrftoken",
    "aws_secret_access_key=None aws_session_token=None (using the container credentials provider)",
    "password=\"\" for the guest account is rejected",
    "PGPASSWORD not set; falling back to ~/.pgpass",
    "{{\"auth_method\":\"iam\",\"token_ttl\":900,\"tokenCount\":{n},\"secretArn\":\"arn:aws:secretsmanager:{region}:{acct}:secret:prod/{svc}-{b6}\"}}",
    "{{\"level\":\"info\",\"msg\":\"secrets loaded\",\"secret_names\":[\"DB_PASSWORD\",\"STRIPE_API_KEY\"],\"count\":2}}",
    "Secret prod/{svc}/db not found (ResourceNotFoundException)",
    "x-api-key header missing on request {uuid}",
    "API key ending with {h5} is invalid",
    "AccessDeniedException: User: arn:aws:sts::{acct}:assumed-role/{svc}-exec/{h32} is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:{region}:{acct}:key/{uuid}",
    "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:sts::{acct}:assumed-role/{svc}-task/{h32} is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/{svc}/api-token",
    "An error occurred (UnrecognizedClientException) when calling the GetCallerIdentity operation: The security token included in the request is invalid.",
    "An error occurred (InvalidClientTokenId) when calling the AssumeRole operation: The security token included in the request is invalid",
    "ecr:GetAuthorizationToken denied for arn:aws:iam::{acct}:role/ecsTaskExecutionRole",
    "sts:GetSessionToken returned credentials valid until {ts}",
    "Fetching secret data from SSM Parameter Store in {region}: invalid parameters: /prod/{svc}/DB_PASSWORD",
    "Missing required env var: DB_PASSWORD",
    "Error: Environment variable JWT_SECRET is not defined",
    "KeyError: 'SECRET_KEY'",
    "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.",
    "pydantic_settings: field api_token: Field required [type=missing, input_value={{}}, input_type=dict]",
    "vault: token renewed, lease_duration=768h renewable=true",
    "Rotating secret prod/{svc}/db: step createSecret finished (version {uuid})",
    "bypass_cache=1 passthrough=true compass_heading={n}",
    "GET /api/v1/password-reset?email_hash={h32} 200",
    "GET /oauth/authorize?response_type=code&client_id={h16}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&state={h16} 302",
    "Keycloak: user {user} logged in, session {uuid}",
    "Basic authentication is disabled; use OAuth 2.0",
    "Missing bearer token on {path} (401)",
    "Bearer authentication failed: token expired",
    "The provided API key is invalid.",
    "Using authorization code flow with PKCE (code_challenge_method=S256)",
    "ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain",
    "git@github.com:acme/{svc}.git: Permission denied (publickey).",
    "Loaded {n} keys from JWKS https://auth.example.com/.well-known/jwks.json (kid={h16})",
    "TLS handshake error from {ip}:{port}: remote error: tls: bad certificate",
    "Set-Cookie: locale=en-GB; Path=/; Max-Age=31536000; SameSite=Lax; Secure",
    "nginx: [warn] the \"ssl\" directive is deprecated, use the \"listen ... ssl\" directive instead in /etc/nginx/conf.d/default.conf:{n}",
    "--- [main] c.a.o.config.SecretsLoader : loaded 3 secrets from /run/secrets (db_password, api_key, jwt_secret)",
    "docker run --rm -e DB_HOST=db.internal -e DB_PASSWORD --env-file .env {image}",
    "+ aws secretsmanager get-secret-value --secret-id prod/{svc}/db --query SecretString --output text",
    "+ aws ecr get-login-password --region {region}",
    "WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
    "Login Succeeded",
]


@gen(10)
def hard():
    return R.choice(HARD).format(user=R.choice(["orders", "postgres", "app", "billing", "root", "admin"]), ip=ip(),
                                 svc=svc(), n=R.randint(1, 99999), acct=acct(), region=region(),
                                 b6=b64(6).replace("+", "Q").replace("/", "z"), uuid=uuid(), h5=h(5), h16=h(16),
                                 h32=h(32), ts=ts(), path=path(), port=R.randint(30000, 60000), image=image())


def main() -> None:
    weights = [w for w, _ in GEN]
    fns = [f for _, f in GEN]
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < 2000:
        line = R.choices(fns, weights)[0]()
        if line not in seen:
            seen.add(line)
            lines.append(line)
    out = Path(__file__).with_name("benign.log")
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} lines -> {out}")


if __name__ == "__main__":
    main()
