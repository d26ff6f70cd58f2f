"""The cluedrop.v1 protobuf and gRPC modules, generated from proto/cluedrop/v1
when the package is built (clients/python/build_stubs.py; never edited or
committed): job_pb2, job_service_pb2(_grpc), train_service_pb2(_grpc),
work_service_pb2(_grpc), scored_pb2, daemon_pb2(_grpc).

Example:
    >>> from cluedrop.v1 import job_pb2
    >>> job_pb2.JobSpec(name="bio").name
    'bio'
"""
