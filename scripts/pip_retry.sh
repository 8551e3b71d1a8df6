# Sourced by the setup scripts. pip install (or pip wheel), tried three times: a
# connection dropped mid-download (seen on torch's multi-GB CUDA wheels) should not
# fail the whole setup; what was downloaded whole stays in pip's cache for the next try.
pip_retry() {
  local python="$1" attempt
  shift
  for attempt in 1 2 3; do
    "$python" -m pip "$@" && return 0
    echo "==> pip $1 failed (try $attempt of 3)" >&2
    [ "$attempt" -lt 3 ] && sleep $((attempt * 15))
  done
  return 1
}

pip_install() {
  local python="$1"
  shift
  pip_retry "$python" install "$@"
}
