#!/usr/bin/env python3
"""Starts one real cluedrop daemon binary and checks it with real clients.

  1. the daemon starts on free ports (port 0) and writes its ready file;
  2. grpc.health.v1 (Python grpcio-health-checking) reports SERVING overall,
     and NOT_SERVING for every service the daemon says is not built yet;
  3. server reflection (grpcio-reflection) lists the expected services;
  4. /metrics passes `promtool check metrics` and carries cluedrop_build_info
     for this component;
  5. on SIGTERM the health status turns NOT_SERVING while the daemon drains,
     and the process then exits 0.

Usage: daemon_smoke_test.py --binary PATH --component NAME
                            --expect-service S [--expect-service S ...]
Prints a transcript; exits non-zero with the failing check on any failure.
"""
import argparse
import os
import shutil
import tempfile
import time
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cluedrop_local import Daemon, DaemonStartError
from cluedrop_testing import fail, log, run


def health_status(stub, service):
    try:
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    except grpc.RpcError as error:
        return f"RPC error {error.code().name}"


def list_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    for response in responses:
        return sorted(s.name for s in response.list_services_response.service)
    return []


def daemon_info(channel):
    """Calls cluedrop.v1.DaemonService/GetDaemonInfo without generated code:
    the reply is decoded through the descriptors that reflection serves."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="cluedrop.v1.DaemonService")]), timeout=5)
    pool = descriptor_pool.DescriptorPool()
    files = {}
    for response in responses:
        for blob in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(blob)
            files[proto.name] = proto
        break
    # Add dependencies first (timestamp.proto comes with the answer).
    added = set()

    def add(name):
        if name in added or name not in files:
            return
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])
        added.add(name)

    for name in files:
        add(name)
    info_type = message_factory.GetMessageClass(pool.FindMessageTypeByName("cluedrop.v1.DaemonInfo"))
    call = channel.unary_unary("/cluedrop.v1.DaemonService/GetDaemonInfo",
                               request_serializer=lambda _: b"",
                               response_deserializer=info_type.FromString)
    return call(None, timeout=5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--component", required=True)
    parser.add_argument("--expect-service", action="append", default=[])
    parser.add_argument("--promtool", default="promtool")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix=f"cluedrop-{args.component}-")
    extra = [f"--data_dir={os.path.join(work, 'data')}"] if args.component == "coordinator" else []
    daemon = Daemon(args.binary, extra, work_dir=work, name=args.component,
                    shutdown_drain_ms=1500, ready_timeout_s=60)
    log(f"$ {' '.join(daemon.argv)}")
    try:
        try:
            ports = daemon.start()
        except DaemonStartError as error:
            fail(str(error))
        address = daemon.address
        log(f"ready: gRPC {address}, metrics 127.0.0.1:{ports['metrics_port']}")
        channel = grpc.insecure_channel(address)
        health = health_pb2_grpc.HealthStub(channel)

        overall = health_status(health, "")
        log(f"health(''): {overall}")
        if overall != "SERVING":
            fail(f"overall health is {overall}, want SERVING")

        info = daemon_info(channel)
        log(f"DaemonInfo: component={info.component} version={info.version}")
        if info.component != args.component:
            fail(f"DaemonInfo.component is {info.component!r}, want {args.component!r}")
        for capability in info.capabilities:
            log(f"  capability {capability.name}: ready={capability.ready} ({capability.detail})")
            # Services and worker roles ("cluedrop.scorer") have health entries.
            if capability.name.startswith("cluedrop."):
                status = health_status(health, capability.name)
                want = "SERVING" if capability.ready else "NOT_SERVING"
                log(f"  health({capability.name!r}): {status}")
                if status != want:
                    fail(f"health of {capability.name} is {status}, DaemonInfo says {want}")

        services = list_services(channel)
        log(f"reflection services: {', '.join(services)}")
        for expected in args.expect_service + ["grpc.health.v1.Health",
                                               "cluedrop.v1.DaemonService"]:
            if expected not in services:
                fail(f"reflection does not list {expected}")

        url = f"http://127.0.0.1:{ports['metrics_port']}/metrics"
        body = urllib.request.urlopen(url, timeout=5).read()
        metrics_file = os.path.join(work, "metrics.txt")
        with open(metrics_file, "wb") as f:
            f.write(body)
        check = run([args.promtool, "check", "metrics"], input=body.decode())
        log(f"$ promtool check metrics < {url}  -> exit {check.returncode}")
        output = (check.stdout + check.stderr).strip()
        if output:
            log(output)
        if check.returncode != 0:
            fail("promtool check metrics rejected /metrics")
        build_info = [line for line in body.decode().splitlines()
                      if line.startswith("cluedrop_build_info{")]
        log(f"  {build_info[0] if build_info else '(no cluedrop_build_info)'}")
        if not build_info or f'component="{args.component}"' not in build_info[0]:
            fail("cluedrop_build_info for this component is missing")

        log("sending SIGTERM")
        daemon.terminate()
        seen = None
        deadline = time.time() + 1.4
        while time.time() < deadline:
            seen = health_status(health, "")
            if seen == "NOT_SERVING":
                break
            time.sleep(0.02)
        log(f"health('') after SIGTERM: {seen}")
        if seen != "NOT_SERVING":
            fail(f"health after SIGTERM is {seen}, want NOT_SERVING during the drain")
        code = daemon.wait(timeout_s=30)
        log(f"exit code: {code}")
        if code != 0:
            fail(f"daemon exited with {code}, want 0")
        channel.close()
    finally:
        daemon.kill9()
        log("--- daemon output ---")
        with open(daemon.log_path) as f:
            log(f.read().rstrip())
        shutil.rmtree(work, ignore_errors=True)  # its log is printed above
    log(f"PASS: {args.component}")


if __name__ == "__main__":
    main()
