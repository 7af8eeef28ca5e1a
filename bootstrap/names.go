package bootstrap

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	setfilterstatev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/planeless/planeless/proxy"
)

// The request metrics of outbound requests name the destination the way
// the application did (the Host or :authority it sent) and the workload
// that answered (the server's sidecar tells it in WorkloadHeader). Both
// come from outside the proxy: an application that forwards its callers'
// Host headers (a reverse proxy, an ingress controller) lets any caller
// choose them, and any server can answer with any header. So each is
// bounded before it becomes a label: a value that is not shaped like a
// host[:port] (or an <app>.<namespace>), or one more distinct value past
// the cap, is counted as OtherName instead. Requests are always counted;
// only their label is bounded. A name not seen for NameTTL frees its place.
const (
	// MaxDestinationNames and MaxPeerWorkloads cap the distinct
	// destination and destination_workload values of one pod's request
	// metrics.
	MaxDestinationNames = 200
	MaxPeerWorkloads    = 100
	// NameTTL frees the place of a name not seen for this long.
	NameTTL = DestinationTTL
	// MaxNameLength is the longest value kept as a label.
	MaxNameLength = 128
	// OtherName is the label value of everything past the caps or
	// misshapen.
	OtherName = "(other)"

	luaName = "envoy.filters.http.lua"
	// namesMetadata is the dynamic metadata namespace the names are
	// written to, for the stats access logger.
	namesMetadata = "planeless"
	// authorityKey is the filter state the request's :authority is kept
	// in until the response, when the Lua filter reads it.
	authorityKey  = "planeless.authority"
	stringFactory = "envoy.string"
)

// boundedNamesSource is the Lua filter that keeps the names. Envoy runs one
// Lua state per worker thread, so each worker keeps its own table and the
// caps are divided between the workers. It runs once per request, on the
// response, when both names are known: the request's :authority comes from
// the filter state (captureAuthority, a native filter, keeps it), because
// each Lua callback costs a coroutine, and two of them were a sixth of the
// client sidecar's CPU per request. A request that gets no response at
// all (the application went away first) has no names: its labels say "-".
const boundedNamesSource = `-- planeless: bounded names for the request metrics (bootstrap/names.go).
local other, maxlen, ttl = %q, %d, %d
local destinations = {n = 0, cap = %d, at = {}}
local workloads = {n = 0, cap = %d, at = {}}

local function host(v)
  return v:find("^[%%w][%%w%%.%%-]*$") or v:find("^[%%w][%%w%%.%%-]*:%%d+$")
    or v:find("^%%[[%%x:%%.]+%%]$") or v:find("^%%[[%%x:%%.]+%%]:%%d+$")
end

local function workload(v)
  return v:find("^[%%w][%%w%%.%%-_]*$")
end

local function bounded(set, v, valid)
  -- Most requests repeat a name already kept, as the application sent
  -- it: only kept names are in the table, lower-case and well-shaped.
  local now = os.time()
  local seen = set.at[v]
  if seen then
    if seen ~= now then set.at[v] = now end
    return v
  end
  if #v == 0 or #v > maxlen then return other end
  v = v:lower()
  if not valid(v) then return other end
  if set.at[v] then
    set.at[v] = now
    return v
  end
  if set.n >= set.cap then
    for k, seen in pairs(set.at) do
      if now - seen >= ttl then
        set.at[k] = nil
        set.n = set.n - 1
      end
    end
    if set.n >= set.cap then return other end
  end
  set.at[v] = now
  set.n = set.n + 1
  return v
end

function envoy_on_response(response)
  local info = response:streamInfo()
  local metadata = info:dynamicMetadata()
  metadata:set("planeless", "destination", bounded(destinations, info:filterState():get(%q) or "", host))
  local peer = response:headers():get(%q)
  local name = "unknown"
  if peer then name = bounded(workloads, peer, workload) end
  metadata:set("planeless", "destination_workload", name)
end
`

// perWorker divides a pod-wide cap between the proxy's worker threads.
func perWorker(limit, workers int) int {
	return max(1, limit/max(1, workers))
}

// captureAuthority keeps the request's :authority in the filter state,
// for the Lua filter to read on the response.
func captureAuthority() *setfilterstatev3.FilterStateValue {
	return filterStateValue(authorityKey, stringFactory, "%REQ(:AUTHORITY)%")
}

// boundedNames is the Lua filter of the outbound connection manager; a
// set-filter-state filter before it must capture the authority.
func (p *packer) boundedNames(s *proxy.Spec) *hcmv3.HttpFilter {
	workers := s.Proxy.Concurrency
	source := fmt.Sprintf(boundedNamesSource, OtherName, MaxNameLength, int(NameTTL.Seconds()),
		perWorker(MaxDestinationNames, workers), perWorker(MaxPeerWorkloads, workers), authorityKey, WorkloadHeader)
	return &hcmv3.HttpFilter{
		Name: luaName,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: p.pack(&luav3.Lua{
			DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: source}},
		})},
	}
}

// boundedName is the access log and stats format of a name the Lua filter
// bounded.
func boundedName(key string) string {
	return "%DYNAMIC_METADATA(" + namesMetadata + ":" + key + ")%"
}
