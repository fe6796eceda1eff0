#!/usr/bin/env python3
"""The boto3 peer of README "Performance (as deployed)": the public runbooks'
per-Region check of DHMC, clients kept between sweeps (as a warm Lambda keeps
them), 20 ms added before each call (the calls are sequential, so that is the
same as 20 ms on the server, as bench-check adds). Not part of CI.

    go run ./internal/awsemu/cmd/awsemu -addr 127.0.0.1:4566 -seed-regions "$REGIONS" &
    python3 scripts/boto3-peer.py http://127.0.0.1:4566 "$REGIONS"

with REGIONS the 17 default Regions, comma-separated; divide the median it
prints by the deployed sweep's figure of `make bench-check`
(deployed-default-vs-1).
"""
import statistics
import sys
import time

import boto3

ROLE = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"


def slow(**_):
    time.sleep(0.020)


def main():
    url, regions = sys.argv[1], sys.argv[2].split(",")
    s = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    iam = s.client("iam", endpoint_url=url)
    iam.meta.events.register("before-send.*", slow)
    ssms = {}
    for r in regions:
        ssms[r] = s.client("ssm", region_name=r, endpoint_url=url)
        ssms[r].meta.events.register("before-send.*", slow)

    def sweep():
        iam.get_role(RoleName=ROLE)
        iam.list_attached_role_policies(RoleName=ROLE)
        iam.list_role_policies(RoleName=ROLE)
        for r in regions:
            ssms[r].get_service_setting(SettingId=SETTING)

    sweep()  # warm: connections, credentials
    times = []
    for _ in range(7):
        t = time.perf_counter()
        sweep()
        times.append((time.perf_counter() - t) * 1000)
    print("boto3 peer: %d calls per sweep, median %.1f ms" % (3 + len(regions), statistics.median(times)))


if __name__ == "__main__":
    main()
