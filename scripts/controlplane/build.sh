#!/usr/bin/env bash
# Builds the pinned control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, KWOK, Helm) from the Go module proxy and fetches KEDA's CRDs, into a cache outside the repository:
#   ${MLAUTOSCALE_CACHE:-$HOME/.cache/mlautoscale}/<component>-<version>/
# Only what is missing is built, so a second run (or CI on the same machine) takes seconds.
# Usage: scripts/controlplane/build.sh [kubernetes] [etcd] [kwok] [helm] [keda]   (default: all)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${MLAUTOSCALE_CACHE:-$HOME/.cache/mlautoscale}"
# shellcheck source=versions.env
source "$repo_root/scripts/controlplane/versions.env"

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

build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
declare -A built_seconds=() built_cpu_seconds=()

# CPU seconds (user + system) used so far by this script's finished child processes, into the named
# variable: unlike wall time, it does not depend on what else the machine is doing. `times` must run in
# this shell (a subshell starts its own count at zero), hence the file rather than $(...).
times_file="$(mktemp)"
trap 'rm -f "$times_file"' EXIT
children_cpu_seconds() {
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
    built_seconds["$out_dir/$name"]=$((SECONDS - started))
    built_cpu_seconds["$out_dir/$name"]=$((cpu_now - cpu_started))
  done
}

build_kubernetes() {
  local version major minor ldflags="-s -w" pkg
  version="$(module_version tools/kubernetes k8s.io/kubernetes)"
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
  KUBERNETES_DIR="$cache/kubernetes-$version"
  go_build tools/kubernetes "$KUBERNETES_DIR" "$ldflags" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  local version
  version="$(module_version tools/etcd go.etcd.io/etcd/server/v3)"
  ETCD_DIR="$cache/etcd-$version"
  # The etcd command is the root package of its server module, so go would name it "server".
  go_build tools/etcd "$ETCD_DIR" "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$version" \
    go.etcd.io/etcd/server/v3=etcd
}

build_kwok() {
  local version module_dir stage
  version="$(module_version tools/kwok sigs.k8s.io/kwok)"
  KWOK_DIR="$cache/kwok-$version"
  go_build tools/kwok "$KWOK_DIR" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version#v}" \
    sigs.k8s.io/kwok/cmd/kwok
  # KWOK runs no stage unless given one: keep the module's own stages beside the binary.
  if [[ ! -f "$KWOK_DIR/stages/pod-delete.yaml" ]]; then
    module_dir="$(cd "$repo_root/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
    [[ -d "$module_dir/kustomize/stage" ]] || fail "no kustomize/stage folder in $module_dir"
    mkdir -p "$KWOK_DIR/stages"
    for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
      cp "$module_dir/kustomize/stage/$stage.yaml" "$KWOK_DIR/stages/"
    done
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
  HELM_DIR="$cache/helm-$version"
  go_build tools/helm "$HELM_DIR" "-s -w -X helm.sh/helm/v3/internal/version.version=$version \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$k8s_major -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$k8s_major -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    helm.sh/helm/v3/cmd/helm
}

fetch_keda() {
  KEDA_DIR="$cache/keda-$KEDA_VERSION"
  [[ -f "$KEDA_DIR/crds/keda.sh_scaledobjects.yaml" ]] && return 0
  local module_dir
  module_dir="$(go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$module_dir/config/crd/bases" ]] || fail "KEDA $KEDA_VERSION has no config/crd/bases in '$module_dir'"
  mkdir -p "$KEDA_DIR/crds"
  cp "$module_dir"/config/crd/bases/*.yaml "$KEDA_DIR/crds/"
  chmod u+w "$KEDA_DIR"/crds/*.yaml
}

components=("$@")
((${#components[@]} > 0)) || components=(kubernetes etcd kwok helm keda)
for component in "${components[@]}"; do
  case "$component" in
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  kwok) build_kwok ;;
  helm) build_helm ;;
  keda) fetch_keda ;;
  *) fail "unknown component '$component' (kubernetes, etcd, kwok, helm, keda)" ;;
  esac
done

echo
echo "Control-plane binaries in $cache:"
# report <label> <binary> <version arguments>...
report() {
  local label="$1" binary="$2"
  shift 2
  local note="cached"
  [[ -n "${built_seconds[$binary]:-}" ]] &&
    note="built in ${built_seconds[$binary]}s, ${built_cpu_seconds[$binary]} CPU-s"
  printf '  %-24s %-40s %s\n' "$label" "$("$binary" "$@" 2>&1 | head -n 1)" "($note)"
}
for component in "${components[@]}"; do
  case "$component" in
  kubernetes)
    report kube-apiserver "$KUBERNETES_DIR/kube-apiserver" --version
    report kube-controller-manager "$KUBERNETES_DIR/kube-controller-manager" --version
    report kube-scheduler "$KUBERNETES_DIR/kube-scheduler" --version
    report kubectl "$KUBERNETES_DIR/kubectl" version --client=true
    ;;
  etcd) report etcd "$ETCD_DIR/etcd" --version ;;
  kwok) report kwok "$KWOK_DIR/kwok" --version ;;
  helm) report helm "$HELM_DIR/helm" version --short ;;
  keda) printf '  %-24s %-40s\n' "KEDA CRDs $KEDA_VERSION" "$(ls "$KEDA_DIR/crds" | wc -l) files in $KEDA_DIR/crds" ;;
  esac
done
echo "  cache size: $(du -sh "$cache" | cut -f1)"
