#!/usr/bin/env bash
# The `cluedrop` CLI against a real coordinator: help for every subcommand,
# health/info round trips, and clear errors.
set -euo pipefail
cli="$1"; coordinator="$2"
work=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --help | grep -q "Commands:" || fail "cluedrop --help lists no commands"
for command in submit status list watch cancel score augment train eval tokenize generate demo \
               health info devices; do
  "$cli" "$command" --help >"$work/help" || fail "cluedrop $command --help exited non-zero"
  grep -q "cluedrop $command" "$work/help" || fail "cluedrop $command --help names no command"
  grep -q "NOT BUILT YET" "$work/help" && fail "cluedrop $command says it is not built"
done
printf 'name: x\ntraining: {epochs: ten}\n' >"$work/job.yaml"
set +e; "$cli" submit "$work/job.yaml" 2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "job.yaml:2: training.epochs: expected an integer" "$work/err" \
  || fail "invalid job spec: rc=$rc, $(cat "$work/err")"
printf 'name: x\ncorpus: {paths: [bio.csv]}\ntarget_model: {checkpoint_dir: /m}\naugmentation: {mode: contrast}\n' \
  >"$work/train.yaml"
set +e; "$cli" train "$work/train.yaml" --local 2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "\-\-scores is required: augmentation.mode contrast" "$work/err" \
  || fail "train without --scores in mode contrast: rc=$rc, $(cat "$work/err")"
set +e; "$cli" score --large /m --small /m --input x.jsonl --output y.jsonl --attention_kernel flash \
  2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "\-\-attention_kernel: expected auto, tiled or fused, got 'flash'" "$work/err" \
  || fail "score --attention_kernel flash: rc=$rc, $(cat "$work/err")"
set +e; "$cli" bogus 2>/dev/null; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "unknown command exit code $rc, want 2"

"$coordinator" --grpc_address=127.0.0.1:0 --metrics_address= --data_dir="$work/data" \
  --ready_file="$work/ready" --shutdown_drain_ms=0 2>"$work/log" & pid=$!
for _ in $(seq 200); do [ -f "$work/ready" ] && break; sleep 0.05; done
port=$(sed -E 's/.*"grpc_port": ([0-9]+).*/\1/' "$work/ready")
out=$("$cli" health --address "127.0.0.1:$port") || fail "health: $out"
[ "$out" = "SERVING" ] || fail "health printed '$out'"
for service in JobService WorkService TrainService; do
  out=$("$cli" health --address "127.0.0.1:$port" --service "cluedrop.v1.$service") \
    || fail "$service health: rc=$?"
  [ "$out" = "SERVING" ] || fail "$service health printed '$out'"
done
CLUEDROP_COORDINATOR="127.0.0.1:$port" "$cli" info | grep -q '"component": "coordinator"' \
  || fail "info via CLUEDROP_COORDINATOR did not reach the coordinator"
# Secure by default: no credentials configured, so the coordinator says so
# at start and refuses job calls, saying how to configure them.
grep -q "no credentials configured: every JobService, WorkService and TrainService call will be refused" \
  "$work/log" || fail "the coordinator's log does not warn about missing credentials"
set +e; "$cli" status job-does-not-exist --coordinator "127.0.0.1:$port" 2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "^cluedrop status: " "$work/err" \
  && grep -q "refuses every call: give the coordinator --auth_token_file" "$work/err" \
  || fail "status without credentials: rc=$rc, $(cat "$work/err")"
# A world-readable token file is refused before any call.
printf 'abcdefghijklmnopqrstuvwxyz\n' >"$work/token"; chmod 644 "$work/token"
set +e; "$cli" status job-x --coordinator "127.0.0.1:$port" --token_file "$work/token" 2>"$work/err"
rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "mode 0644 lets every local user read it" "$work/err" \
  || fail "world-readable --token_file: rc=$rc, $(cat "$work/err")"
set +e; "$cli" health --timeout_ms=abc 2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q -- "--timeout_ms" "$work/err" || fail "bad flag not reported"
kill -TERM $pid; wait $pid || fail "coordinator exit code $?"
set +e; "$coordinator" --data_dir=/proc/forbidden --grpc_address=127.0.0.1:0 --metrics_address= \
  2>"$work/err"; rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "data_dir /proc/forbidden" "$work/err" || fail "bad data_dir: rc=$rc"
echo "PASS: cli"
