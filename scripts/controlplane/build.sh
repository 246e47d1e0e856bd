#!/usr/bin/env bash
# Builds the pinned binaries of the local cluster from the Go module proxy, into a cache outside the
# repository:
#   ${MLAUTOSCALE_CACHE:-$HOME/.cache/mlautoscale}/<component>-<version>/
# Components: the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl),
# the oldest supported Kubernetes' kube-apiserver (kubernetes-<minor>, for the tests against it), KWOK, Helm,
# KEDA (operator, metrics API server, admission webhooks, and its CRDs and manifests), metrics-server,
# prometheus-adapter and a Kafka-protocol broker (kfake). Each is pinned by its wrapper module under tools/.
# Only what is missing is built, so a second run (or CI on the same machine) takes seconds. Builds run
# MLAUTOSCALE_BUILD_JOBS at a time (default 2): go build already compiles in parallel, but a second build
# fills the time the first spends linking and downloading.
# Usage: scripts/controlplane/build.sh [component]...   (default: all; see COMPONENTS below)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${MLAUTOSCALE_CACHE:-$HOME/.cache/mlautoscale}"
# shellcheck source=versions.env
source "$repo_root/scripts/controlplane/versions.env"

# Longest first, so the two build slots finish close together.
COMPONENTS=(kubernetes keda "kubernetes-${KUBERNETES_OLDEST}" metrics-server prometheus-adapter helm etcd kwok kfake)

# Static binaries: they run anywhere on this architecture and do not depend on the C library.
export CGO_ENABLED=0

fail() {
  echo "build.sh: error: $*" >&2
  exit 1
}

# Go's usual install location, for shells whose PATH does not include it.
command -v go >/dev/null || { [[ -x /usr/local/go/bin/go ]] && export PATH="$PATH:/usr/local/go/bin"; }
command -v go >/dev/null || fail "go is not on PATH (Go ${GO_MIN_VERSION} or newer is needed)"
mkdir -p "$cache"

# One build at a time per cache: two concurrent builds on a small machine would only slow each other down,
# and the second would find the binaries once the first is done.
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
  echo "build.sh: another build holds $cache/.build.lock, waiting for it..."
  flock 9
fi

# The version a tool module pins for one of its requirements, read from its go.mod.
module_version() {
  local module_dir="$1" module_path="$2" version
  version="$(cd "$repo_root/$module_dir" && go list -m -f '{{.Version}}' "$module_path")" ||
    fail "cannot read the version of $module_path from $module_dir/go.mod"
  [[ -n "$version" ]] || fail "no version for $module_path in $module_dir/go.mod"
  echo "$version"
}

# The folder where a tool module's requirement is unpacked (downloading it if needed).
module_dir() {
  local module_dir="$1" module_path="$2" dir
  dir="$(cd "$repo_root/$module_dir" && go mod download -json "$module_path" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || fail "cannot download $module_path for $module_dir"
  echo "$dir"
}

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# Each build job writes "<binary> <wall seconds> <CPU seconds>" lines here for the final report.
report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT

# CPU seconds (user + system) used so far by this shell's finished child processes, into the named
# variable: unlike wall time, it does not depend on what else the machine is doing. `times` must run in
# the shell whose children are counted (each build job is its own subshell, starting at zero), hence the
# file rather than $(...).
children_cpu_seconds() {
  local times_file="$report_dir/times.$BASHPID"
  times >"$times_file"
  printf -v "$1" '%s' "$(tail -n 1 "$times_file" | awk '{
    total = 0
    for (i = 1; i <= NF; i++) { split($i, part, "m"); total += part[1] * 60 + part[2] }
    printf "%d", total
  }')"
}

# The file name go build gives a package's binary: its last path element, skipping a major version suffix.
go_binary_name() {
  local package="$1"
  [[ "$package" =~ /v[0-9]+$ ]] && package="${package%/v*}"
  basename "$package"
}

# go_build <module dir> <output dir> <ldflags> <package>[=<binary name>]... : builds the missing binaries.
go_build() {
  local module_dir="$1" out_dir="$2" ldflags="$3"
  shift 3
  local missing=() names=() spec package name
  for spec in "$@"; do
    package="${spec%%=*}"
    name="$(go_binary_name "$package")"
    [[ "$spec" == *=* ]] && name="${spec#*=}"
    if [[ ! -x "$out_dir/$name" ]]; then
      missing+=("$package")
      names+=("$name")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  mkdir -p "$out_dir"
  # Build into a scratch folder and move into place, so an interrupted build never leaves a binary that
  # looks complete.
  local scratch started cpu_started i
  scratch="$(mktemp -d "$out_dir/.build.XXXXXX")"
  started=$SECONDS
  children_cpu_seconds cpu_started
  echo "build.sh: building ${names[*]} into $out_dir"
  if ! (cd "$repo_root/$module_dir" && go build -trimpath -ldflags "$ldflags" -o "$scratch/" "${missing[@]}"); then
    rm -rf "$scratch"
    fail "go build of ${missing[*]} failed"
  fi
  for i in "${!missing[@]}"; do
    mv "$scratch/$(go_binary_name "${missing[$i]}")" "$out_dir/${names[$i]}"
  done
  rmdir "$scratch"
  local cpu_now
  children_cpu_seconds cpu_now
  for name in "${names[@]}"; do
    echo "$out_dir/$name $((SECONDS - started)) $((cpu_now - cpu_started))" >>"$report_dir/built"
  done
  echo "build.sh: built ${names[*]} in $((SECONDS - started)) s, $((cpu_now - cpu_started)) CPU-s"
}

# The output folder of each component, known before anything is built (for the report).
component_dir() {
  case "$1" in
  # kubernetes is the newest version, kubernetes-<minor> an older one (tools/kubernetes-<minor>): both go to
  # kubernetes-<version>, where the harness looks for a version's binaries.
  kubernetes | kubernetes-[0-9]*.[0-9]*)
    [[ -f "$repo_root/tools/$1/go.mod" ]] || fail "no wrapper module tools/$1 for component '$1'"
    echo "$cache/kubernetes-$(module_version "tools/$1" k8s.io/kubernetes)"
    ;;
  etcd) echo "$cache/etcd-$(module_version tools/etcd go.etcd.io/etcd/server/v3)" ;;
  kwok) echo "$cache/kwok-$(module_version tools/kwok sigs.k8s.io/kwok)" ;;
  helm) echo "$cache/helm-$(module_version tools/helm helm.sh/helm/v3)" ;;
  keda) echo "$cache/keda-$(module_version tools/keda github.com/kedacore/keda/v2)" ;;
  metrics-server) echo "$cache/metrics-server-$(module_version tools/metrics-server sigs.k8s.io/metrics-server)" ;;
  prometheus-adapter)
    echo "$cache/prometheus-adapter-$(module_version tools/prometheus-adapter sigs.k8s.io/prometheus-adapter)"
    ;;
  kfake) echo "$cache/kfake-$(module_version tools/kfake github.com/twmb/franz-go/pkg/kfake)" ;;
  *) fail "unknown component '$1' (${COMPONENTS[*]})" ;;
  esac
}

# build_kubernetes <component>: the commands its wrapper module lists as tools (all four for the newest
# version; kube-apiserver alone for the oldest, which is all its tests start).
build_kubernetes() {
  local module="tools/$1" version major minor ldflags="-s -w" pkg packages
  version="$(module_version "$module" k8s.io/kubernetes)"
  major="${version#v}"
  major="${major%%.*}"
  minor="${version#v*.}"
  minor="${minor%%.*}"
  # Without these, /version reports v0.0.0-master: Helm's kubeVersion checks and anything that parses the
  # server's minor version break.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done
  mapfile -t packages < <(cd "$repo_root/$module" && go list tool) || fail "cannot list the tools of $module"
  ((${#packages[@]} > 0)) || fail "$module/go.mod lists no tool"
  go_build "$module" "$(component_dir "$1")" "$ldflags" "${packages[@]}"
}

build_etcd() {
  local version
  version="$(module_version tools/etcd go.etcd.io/etcd/server/v3)"
  # The etcd command is the root package of its server module, so go would name it "server".
  go_build tools/etcd "$(component_dir etcd)" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$version" \
    go.etcd.io/etcd/server/v3=etcd
}

build_kwok() {
  local version out source stage
  version="$(module_version tools/kwok sigs.k8s.io/kwok)"
  out="$(component_dir kwok)"
  go_build tools/kwok "$out" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version#v}" \
    sigs.k8s.io/kwok/cmd/kwok
  # KWOK runs no stage and serves no kubelet metrics unless configured: keep the module's own stages and
  # metrics configurations beside the binary (the harness adds the project's own, from dev/controlplane/kwok).
  if [[ ! -f "$out/metrics/usage-from-annotation.yaml" ]]; then
    source="$(module_dir tools/kwok sigs.k8s.io/kwok)"
    [[ -d "$source/kustomize/stage" ]] || fail "no kustomize/stage folder in $source"
    rm -rf "$out/stages" "$out/metrics"
    mkdir -p "$out/stages" "$out/metrics"
    for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-complete; do
      cp "$source/kustomize/stage/$stage.yaml" "$out/stages/"
    done
    cp "$source/kustomize/metrics/resource/metrics-resource.yaml" \
      "$source/kustomize/metrics/usage/usage-from-annotation.yaml" "$out/metrics/"
    chmod -R u+w "$out/stages" "$out/metrics"
  fi
}

build_helm() {
  local version client_go k8s_major k8s_minor
  version="$(module_version tools/helm helm.sh/helm/v3)"
  # Helm's default Kubernetes version (used without a cluster, e.g. by helm template) follows the client-go
  # it is built with, as its own Makefile sets it.
  client_go="$(module_version tools/helm k8s.io/client-go)"
  # client-go v0.X.Y goes with Kubernetes 1.X.
  k8s_major=1
  k8s_minor="${client_go#v0.}"
  k8s_minor="${k8s_minor%%.*}"
  go_build tools/helm "$(component_dir helm)" "-s -w -X helm.sh/helm/v3/internal/version.version=$version \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$k8s_major -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$k8s_major -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    helm.sh/helm/v3/cmd/helm
}

build_keda() {
  local version out source
  version="$(module_version tools/keda github.com/kedacore/keda/v2)"
  out="$(component_dir keda)"
  # KEDA's CRDs and the manifests that register its metrics API server and admission webhooks, as KEDA
  # ships them; the harness fills in the addresses of the processes it starts.
  if [[ ! -f "$out/manifests/validation_webhooks.yaml" ]]; then
    source="$(module_dir tools/keda github.com/kedacore/keda/v2)"
    [[ -d "$source/config/crd/bases" ]] || fail "KEDA $version has no config/crd/bases in '$source'"
    mkdir -p "$out/crds" "$out/manifests"
    cp "$source"/config/crd/bases/*.yaml "$out/crds/"
    cp "$source/config/metrics-server/api_service.yaml" "$source/config/webhooks/validation_webhooks.yaml" \
      "$out/manifests/"
    chmod u+w "$out"/crds/*.yaml "$out"/manifests/*.yaml
  fi
  # The operator, the metrics API server ("adapter") and the webhooks, with KEDA's own version ldflags.
  go_build tools/keda "$out" "-s -w -X github.com/kedacore/keda/v2/version.Version=$version \
-X github.com/kedacore/keda/v2/version.GitCommit=$version" \
    github.com/kedacore/keda/v2/cmd/operator=keda-operator \
    github.com/kedacore/keda/v2/cmd/adapter=keda-adapter \
    github.com/kedacore/keda/v2/cmd/webhooks=keda-webhooks
}

build_metrics_server() {
  local version
  version="$(module_version tools/metrics-server sigs.k8s.io/metrics-server)"
  go_build tools/metrics-server "$(component_dir metrics-server)" \
    "-s -w -X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$version" \
    sigs.k8s.io/metrics-server/cmd/metrics-server
}

build_prometheus_adapter() {
  # Its command is called "adapter", like KEDA's.
  go_build tools/prometheus-adapter "$(component_dir prometheus-adapter)" "-s -w" \
    sigs.k8s.io/prometheus-adapter/cmd/adapter=prometheus-adapter
}

build_kfake() {
  go_build tools/kfake "$(component_dir kfake)" "-s -w" mlautoscale.io/tools/kfake=kfake
}

build_component() {
  case "$1" in
  kubernetes | kubernetes-[0-9]*.[0-9]*) build_kubernetes "$1" ;;
  etcd) build_etcd ;;
  kwok) build_kwok ;;
  helm) build_helm ;;
  keda) build_keda ;;
  metrics-server) build_metrics_server ;;
  prometheus-adapter) build_prometheus_adapter ;;
  kfake) build_kfake ;;
  *) fail "unknown component '$1' (${COMPONENTS[*]})" ;;
  esac
}

components=("$@")
((${#components[@]} > 0)) || components=("${COMPONENTS[@]}")
for component in "${components[@]}"; do component_dir "$component" >/dev/null; done

# Run the builds as background jobs, at most $jobs at once; each job's output goes to its own log, shown
# when it ends so that parallel builds do not interleave.
jobs_max="${MLAUTOSCALE_BUILD_JOBS:-2}"
declare -A job_of_pid=()
failed=()
wait_for_one() {
  local pid status=0
  wait -n -p pid "${!job_of_pid[@]}" || status=$?
  cat "$report_dir/${job_of_pid[$pid]}.log"
  ((status == 0)) || failed+=("${job_of_pid[$pid]}")
  unset "job_of_pid[$pid]"
}
started=$SECONDS
for component in "${components[@]}"; do
  while ((${#job_of_pid[@]} >= jobs_max)); do wait_for_one; done
  (build_component "$component") >"$report_dir/$component.log" 2>&1 &
  job_of_pid[$!]="$component"
done
while ((${#job_of_pid[@]} > 0)); do wait_for_one; done
((${#failed[@]} == 0)) || fail "the build of ${failed[*]} failed (its output is above)"
total_seconds=$((SECONDS - started))

echo
echo "Binaries in $cache:"
# The first line a binary prints of its own version.
printed_version() {
  "$@" 2>&1 | head -n 1 || true
}
# The version of <module> a Go binary was built from, from its build information: for programs that have
# no version flag (KEDA's would start instead).
built_from() {
  local binary="$1" module="$2"
  echo "$module $(go version -m "$binary" |
    awk -v m="$module" '($1 == "dep" || $1 == "mod") && $2 == m { print $3; exit }')"
}
# report <label> <binary> <version>
report() {
  local label="$1" binary="$2" version="$3" note="cached" built wall cpu
  built="$(grep -m1 "^$binary " "$report_dir/built" 2>/dev/null || true)"
  if [[ -n "$built" ]]; then
    read -r _ wall cpu <<<"$built"
    note="built in $wall s, $cpu CPU-s"
  fi
  printf '  %-24s %-48s %s\n' "$label" "${version:0:48}" "($note, $(du -m "$binary" | cut -f1) MB)"
}
for component in "${components[@]}"; do
  dir="$(component_dir "$component")"
  case "$component" in
  kubernetes | kubernetes-[0-9]*.[0-9]*)
    # The programs its wrapper module builds (kube-apiserver alone for the oldest version).
    for program in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      if [[ -x "$dir/$program" ]]; then
        version_args=(--version)
        [[ "$program" == kubectl ]] && version_args=(version --client=true)
        report "$program" "$dir/$program" "$(printed_version "$dir/$program" "${version_args[@]}")"
      fi
    done
    ;;
  etcd) report etcd "$dir/etcd" "$(printed_version "$dir/etcd" --version)" ;;
  kwok) report kwok "$dir/kwok" "$(printed_version "$dir/kwok" --version)" ;;
  helm) report helm "$dir/helm" "$(printed_version "$dir/helm" version --short)" ;;
  keda)
    for program in keda-operator keda-adapter keda-webhooks; do
      report "$program" "$dir/$program" "$(built_from "$dir/$program" github.com/kedacore/keda/v2)"
    done
    printf '  %-24s %s\n' "KEDA CRDs" "$(ls "$dir/crds" | wc -l) files in $dir/crds"
    ;;
  metrics-server)
    report metrics-server "$dir/metrics-server" "$(built_from "$dir/metrics-server" sigs.k8s.io/metrics-server)"
    ;;
  prometheus-adapter)
    report prometheus-adapter "$dir/prometheus-adapter" \
      "$(built_from "$dir/prometheus-adapter" sigs.k8s.io/prometheus-adapter)"
    ;;
  kfake) report kfake "$dir/kfake" "$(built_from "$dir/kfake" github.com/twmb/franz-go/pkg/kfake)" ;;
  esac
done
echo "  all builds: ${total_seconds} s wall; cache size: $(du -sh "$cache" | cut -f1)"
