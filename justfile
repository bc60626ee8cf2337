# docparse — `just --list` shows every recipe.

set shell := ["bash", "-euo", "pipefail", "-c"]

export REDIS_URL := env("REDIS_URL", "redis://localhost:6379/0")
export DOCPARSE_PORT := env("DOCPARSE_PORT", "8080")

# uv from PATH, or the one `setup` installs with pip
uv := if `command -v uv || true` == "" { "python3 -m uv" } else { "uv" }

# List the recipes
default:
    @just --list

# Install what is missing: uv, the backend's locked dependencies, Tesseract's traineddata, the front end's packages
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v uv >/dev/null && ! python3 -m uv --version >/dev/null 2>&1; then
        echo "installing uv with pip" >&2
        python3 -m pip install --quiet uv
    fi
    # OCR: the engine comes with the tesserocr wheel, the Korean, English and orientation models from the system
    ocr_packages="tesseract-ocr-kor tesseract-ocr-eng tesseract-ocr-osd"
    if [ -z "${TESSDATA_PREFIX:-}" ] && ! ls /usr/share/tesseract-ocr/*/tessdata/{kor,eng,osd}.traineddata >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing Tesseract's traineddata for OCR ($ocr_packages)" >&2
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $ocr_packages
        else
            echo "note: OCR needs Tesseract's traineddata; install them with: sudo apt-get install $ocr_packages" >&2
        fi
    fi
    (cd backend && {{uv}} sync --frozen --quiet)
    if [ -f frontend/package.json ]; then
        if ! command -v npm >/dev/null; then echo "npm (Node.js 20+) is needed for the front end" >&2; exit 1; fi
        stamp=frontend/node_modules/.package-lock.json
        if [ ! -f "$stamp" ] || [ frontend/package-lock.json -nt "$stamp" ]; then
            (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
        fi
    fi

# Make sure Redis answers at REDIS_URL; start a local redis-server (data in .docparse/redis) when none does
redis:
    #!/usr/bin/env bash
    set -euo pipefail
    ping() { (cd backend && {{uv}} run --frozen python -c 'import os,redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=1).ping()') >/dev/null 2>&1; }
    if ping; then exit 0; fi
    read -r host port < <(cd backend && {{uv}} run --frozen python -c 'import os,urllib.parse as u; p=u.urlparse(os.environ["REDIS_URL"]); print(p.hostname or "localhost", p.port or 6379)')
    if [[ "$host" != "localhost" && "$host" != "127.0.0.1" && "$host" != "::1" ]]; then
        echo "Redis does not answer at $REDIS_URL (a remote host, so it is not started here)." >&2; exit 1
    fi
    if ! command -v redis-server >/dev/null; then
        echo "Redis does not answer at $REDIS_URL and redis-server is not installed." >&2
        echo "Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL." >&2
        exit 1
    fi
    mkdir -p .docparse/redis
    echo "starting redis-server on port $port (data in .docparse/redis)" >&2
    redis-server --port "$port" --bind 127.0.0.1 --dir "$PWD/.docparse/redis" --appendonly yes \
        --daemonize yes --pidfile "$PWD/.docparse/redis/redis.pid" --logfile "$PWD/.docparse/redis/redis.log"
    for _ in $(seq 50); do ping && exit 0; sleep 0.1; done
    echo "redis-server did not start; see .docparse/redis/redis.log" >&2; exit 1

# Build the web UI into frontend/dist when it is missing or older than its sources
frontend-build: setup
    #!/usr/bin/env bash
    set -euo pipefail
    [ -f frontend/package.json ] || exit 0
    if [ ! -f frontend/dist/index.html ] || [ -n "$(find frontend/src frontend/index.html frontend/package-lock.json -newer frontend/dist/index.html 2>/dev/null | head -1)" ]; then
        (cd frontend && npm run build)
    fi

# Run the API on DOCPARSE_PORT and DOCPARSE_WORKERS workers in the foreground; Ctrl-C stops them all
dev: setup redis frontend-build
    cd backend && {{uv}} run --frozen docparse dev

# Run every test suite
test: setup redis
    #!/usr/bin/env bash
    set -euo pipefail
    cd backend
    set +e; {{uv}} run --frozen pytest; rc=$?; set -e
    # pytest's 5 means it collected nothing: for us that is a broken suite, not a pass.
    if [ "$rc" -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
    [ "$rc" -eq 0 ] || exit "$rc"
    cd ..
    if [ -f frontend/package.json ]; then
        (cd frontend && npm run check && npm test)
    fi
    {{just_executable()}} e2e

# End-to-end tests: Chromium on a private Redis + API + workers + built UI; args go to pytest (`just e2e -k cancel`)
[positional-arguments]
e2e *args: frontend-build
    #!/usr/bin/env bash
    set -euo pipefail
    cd e2e
    set +e; {{uv}} run --frozen pytest "$@"; rc=$?; set -e
    if [ "$rc" -eq 5 ]; then echo "pytest collected no e2e tests" >&2; exit 1; fi
    exit "$rc"

# Fault injection, load, hostile input, fuzzing and memory against the whole service, full size (just test runs a quick form)
reliability *args: setup
    #!/usr/bin/env bash
    set -euo pipefail
    cd backend
    DOCPARSE_RELIABILITY=full {{uv}} run --frozen pytest -m reliability -s {{args}}

# Lint, type-check, and check that the generated API client matches the backend (one check a line)
lint: setup
    cd backend && {{uv}} run --frozen ruff check . && {{uv}} run --frozen ruff format --check .
    cd backend && {{uv}} run --frozen mypy
    cd frontend && npm run lint
    cd frontend && npm run check
    cd frontend && npm run check:generated

# Format the backend code
fmt: setup
    cd backend && {{uv}} run --frozen ruff check --fix . && {{uv}} run --frozen ruff format .

# Benchmarks (not part of `just test`): `just bench` (< 10 min) or `just bench --quick` (< 2 min); writes BENCHMARKS.md
bench *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v uv >/dev/null && ! python3 -m uv --version >/dev/null 2>&1; then python3 -m pip install --quiet uv; fi
    if ! command -v redis-server >/dev/null; then echo "redis-server is needed (Debian/Ubuntu: apt-get install redis-server)" >&2; exit 1; fi
    if ! command -v pdftotext >/dev/null; then echo "note: pdftotext (apt-get install poppler-utils) is missing; the fidelity figure will be skipped" >&2; fi
    if ! command -v gs >/dev/null; then echo "note: Ghostscript (apt-get install ghostscript) is missing; the OCRmyPDF figure will be skipped" >&2; fi
    (cd backend && {{uv}} sync --frozen --quiet)
    cd bench && {{uv}} sync --quiet && exec {{uv}} run --quiet python -m docparse_bench {{ARGS}}
