#!/bin/sh
# The original envoy-quickly proxy-init rules
# (github.com/teh-username/envoy-quickly, stage-3/proxy-init/iptables.sh,
# image tehusername/proxy-init:1.4, MIT), unchanged: nat table, IPv4 only,
# including the loopback rule that runs before the UID exclusion.
set -e
: "${SERVICE_PORTS:=8080}" "${UID_:=1337}" "${GID:=1337}"
: "${PROXY_EGRESS_PORT:=9001}" "${PROXY_INGRESS_PORT:=9211}"

iptables -t nat -N POD_INBOUND
iptables -t nat -N POD_OUTBOUND
iptables -t nat -N PROXY_REDIRECT

iptables -t nat -A PREROUTING -p tcp -j POD_INBOUND
iptables -t nat -A POD_INBOUND -p tcp -m tcp -m multiport ! --dports "$SERVICE_PORTS" -j RETURN
iptables -t nat -A POD_INBOUND -p tcp -j REDIRECT --to-ports "$PROXY_INGRESS_PORT"

iptables -t nat -A OUTPUT -p tcp -j POD_OUTBOUND
iptables -t nat -A POD_OUTBOUND ! -d 127.0.0.1/32 -o lo -j PROXY_REDIRECT
iptables -t nat -A POD_OUTBOUND -m owner --uid-owner "$UID_" -j RETURN
iptables -t nat -A POD_OUTBOUND -m owner --gid-owner "$GID" -j RETURN
iptables -t nat -A POD_OUTBOUND -d 127.0.0.1/32 -j RETURN
iptables -t nat -A POD_OUTBOUND -j PROXY_REDIRECT
iptables -t nat -A PROXY_REDIRECT -p tcp -j REDIRECT --to-ports "$PROXY_EGRESS_PORT"
