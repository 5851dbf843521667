"""The task's network path: its subnet's route to the internet (NAT / internet gateway / transit
gateway), the VPC's endpoints, and whether the task's security groups admit the load balancer's
on the container port.

The task's ENI is deleted with the task, so its subnet comes from the event's attachment and its
security groups from the service's awsvpc configuration.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from shared.evidence.errors import guarded
from shared.evidence.model import NetworkFacts

_DEFAULT_ROUTES = ("0.0.0.0/0",)


def fetch(ec2: Any, subnet_id: str | None, *, vpc_id: str | None = None, security_groups: tuple[str, ...] = (),
          lb_security_groups: tuple[str, ...] = (), port: int | None = None,
          public_ip: bool | None = None) -> tuple[NetworkFacts, list[str]]:
    """(network facts, gaps). Each read that fails leaves its fact unknown and adds a gap."""
    gaps: list[str] = []
    route: str | None = None
    table = None
    if subnet_id:
        resp, gap = guarded(f"Route table of subnet {subnet_id}", "ec2:DescribeRouteTables", ec2.describe_route_tables,
                            Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
        if gap:
            gaps.append(gap)
        tables = (resp or {}).get("RouteTables") or []
        if tables:
            table = tables[0]
            vpc_id = vpc_id or table.get("VpcId")
        elif resp is not None:
            # No explicit association: the subnet uses its VPC's main route table.
            if vpc_id is None:
                subnets, gap = guarded(f"Subnet {subnet_id}", "ec2:DescribeSubnets", ec2.describe_subnets,
                                       SubnetIds=[subnet_id])
                if gap:
                    gaps.append(gap)
                found = (subnets or {}).get("Subnets") or []
                vpc_id = found[0].get("VpcId") if found else None
            if vpc_id:
                main, gap = guarded(f"Main route table of {vpc_id}", "ec2:DescribeRouteTables",
                                    ec2.describe_route_tables,
                                    Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                             {"Name": "association.main", "Values": ["true"]}])
                if gap:
                    gaps.append(gap)
                tables = (main or {}).get("RouteTables") or []
                table = tables[0] if tables else None
        if table is not None:
            route = internet_route(table.get("Routes") or [])
    else:
        gaps.append("The task's subnet is unknown (no ENI attachment in the event): routes not checked.")
    endpoints: tuple[str, ...] = ()
    if vpc_id:
        resp, gap = guarded(f"VPC endpoints of {vpc_id}", "ec2:DescribeVpcEndpoints", ec2.describe_vpc_endpoints,
                            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        if gap:
            gaps.append(gap)
        endpoints = tuple(sorted({e["ServiceName"] for e in (resp or {}).get("VpcEndpoints") or []
                                  if e.get("ServiceName") and str(e.get("State", "available")).lower() == "available"}))
    ingress_ok: bool | None = None
    ingress_detail: str | None = None
    if lb_security_groups and port:
        if not security_groups:
            gaps.append("The task's security groups are unknown (not a service task with awsvpc networking): "
                        "load balancer -> task rule not checked.")
        else:
            resp, gap = guarded("Task security groups", "ec2:DescribeSecurityGroups", ec2.describe_security_groups,
                                GroupIds=list(security_groups))
            if gap:
                gaps.append(gap)
            else:
                ingress_ok, ingress_detail = lb_ingress((resp or {}).get("SecurityGroups") or [], lb_security_groups,
                                                        port)
    return NetworkFacts(
        subnet_id=subnet_id,
        vpc_id=vpc_id,
        security_groups=tuple(security_groups),
        public_ip=public_ip,
        internet_route=route,
        vpc_endpoints=endpoints,
        lb_ingress_ok=ingress_ok,
        lb_ingress_detail=ingress_detail,
    ), gaps


def internet_route(routes: list[dict]) -> str | None:
    """"nat", "igw", "tgw", "instance", "peering" for the active default route, else None."""
    for r in routes:
        if r.get("DestinationCidrBlock") not in _DEFAULT_ROUTES:
            continue
        if str(r.get("State", "active")).lower() != "active":
            continue  # a blackhole route leads nowhere
        if r.get("NatGatewayId"):
            return "nat"
        gateway = r.get("GatewayId") or ""
        if gateway.startswith("igw-"):
            return "igw"
        if r.get("TransitGatewayId"):
            return "tgw"
        if r.get("InstanceId") or r.get("NetworkInterfaceId"):
            return "instance"
        if r.get("VpcPeeringConnectionId"):
            return "peering"
        if gateway.startswith("vgw-"):
            return "vgw"
    return None


def lb_ingress(groups: list[dict], lb_security_groups: tuple[str, ...], port: int) -> tuple[bool | None, str]:
    """Does any of the task's security groups admit the load balancer on `port`?

    True: a rule names a load balancer security group (or 0.0.0.0/0) on the port. None: only other
    CIDR ranges cover the port (the load balancer's addresses are not checked). False: nothing does.
    """
    names = ", ".join(g.get("GroupId", "?") for g in groups)
    lbs = ", ".join(lb_security_groups)
    cidr_rules: list[str] = []
    for g in groups:
        for perm in g.get("IpPermissions") or []:
            if not _covers(perm, port):
                continue
            sources = {p.get("GroupId") for p in perm.get("UserIdGroupPairs") or []}
            hit = sources & set(lb_security_groups)
            if hit:
                return True, f"{g.get('GroupId')} admits {', '.join(sorted(hit))} on port {port}"
            for rng in perm.get("IpRanges") or []:
                cidr = rng.get("CidrIp")
                if cidr == "0.0.0.0/0":
                    return True, f"{g.get('GroupId')} admits 0.0.0.0/0 on port {port}"
                if cidr and _valid(cidr):
                    cidr_rules.append(f"{g.get('GroupId')} admits {cidr}")
    if cidr_rules:
        return None, (f"{'; '.join(cidr_rules)} on port {port} (load balancer {lbs}: its addresses were not "
                      "checked against these ranges)")
    return False, f"no rule of {names} admits the load balancer security group {lbs} on port {port}"


def _covers(perm: dict, port: int) -> bool:
    proto = str(perm.get("IpProtocol", ""))
    if proto == "-1":
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo is None or hi is None:
        return True
    return int(lo) <= port <= int(hi)


def _valid(cidr: str) -> bool:
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return True
