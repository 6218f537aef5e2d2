#!/usr/bin/env bash
# The Python the tests use, with what they need from PyPI (pinned): the
# SMTP server of the e-mail tests (aiosmtpd) and the API fuzzer
# (schemathesis). Made once in target/ci-venv, then reused; safe to run
# from several tests at once. Prints the path of its python.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/ci-venv
STAMP="$VENV/.deskterm-test-venv-1"
mkdir -p target
exec 9> target/.ci-venv.lock
flock 9
if [ ! -f "$STAMP" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "aiosmtpd==1.4.6" "schemathesis==4.32.5" >&2
    touch "$STAMP"
fi
echo "$PWD/$VENV/bin/python"
