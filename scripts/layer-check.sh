#!/usr/bin/env bash
# ADSM layer check for C++ (apps/*/src/{api,domain,service,model}) and PHP
# (apps/php-monolith/src/{Api,Domain,Service,Model}). Fails on:
#   api     including model            (layer skipping: the Api must go through the Domain)
#   domain  including api, or an I/O library (HTTP, Asio/Beast, RocksDB, CQL, MySQL)
#   model   including api
#   service including api, domain or model
#   packages/* including apps/*
# Usage: scripts/layer-check.sh [ROOT]   (exit 1 with one line per violation)
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
fail=0
report() { echo "layer-check: $1:$2: $3"; fail=1; }

check_cpp() {  # file layer
  local f=$1 layer=$2 n line inc
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"\<]([^\"\>]+)[\"\>] ]] || continue
    inc=${BASH_REMATCH[1]}
    case $layer in
      api)     [[ $inc =~ (^|/)model/ ]] && report "$f" $n "api includes model ($inc): go through the domain" ;;
      domain)  [[ $inc =~ (^|/)api/ ]] && report "$f" $n "domain includes api ($inc)"
               [[ $inc =~ ^(boost/(asio|beast)|rocksdb/|mysql|mariadb|ficus/http/|ficus/cql/|http/|cql/) ]] &&
                 report "$f" $n "domain includes an I/O header ($inc): the domain does no I/O" ;;
      model)   [[ $inc =~ (^|/)api/ ]] && report "$f" $n "model includes api ($inc)" ;;
      service) [[ $inc =~ (^|/)(api|domain|model)/ ]] && report "$f" $n "service includes $inc: service sits below every layer" ;;
    esac
  done < "$f"
}

for f in $(git ls-files 'apps/*/src/*' | grep -E '\.(h|cc|hpp|cpp)$'); do
  layer=$(echo "$f" | sed -nE 's#^apps/[^/]+/src/(api|domain|service|model)/.*#\1#p')
  [ -n "$layer" ] && check_cpp "$f" "$layer"
done
for f in $(git ls-files 'packages/*' | grep -E '\.(h|cc|hpp|cpp)$'); do
  n=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<](\.\./)*apps/' "$f" | cut -d: -f1 | head -1)
  [ -n "$n" ] && report "$f" "$n" "packages must not include apps"
done

# PHP: namespaces App\Api, App\Domain, App\Service, App\Model (any vendor prefix).
for f in $(git ls-files 'apps/php-monolith/src/*.php'); do
  layer=$(echo "$f" | sed -nE 's#^apps/php-monolith/src/(Api|Domain|Service|Model)/.*#\1#p')
  [ -n "$layer" ] || continue
  case $layer in
    Api)     bad='\\Model\\' ; why="Api uses Model: go through the Domain" ;;
    Domain)  bad='\\Api\\' ; why="Domain uses Api" ;;
    Model)   bad='\\Api\\' ; why="Model uses Api" ;;
    Service) bad='\\(Api|Domain|Model)\\' ; why="Service uses an upper layer" ;;
  esac
  while IFS=: read -r n _; do
    [ -n "$n" ] && report "$f" "$n" "$why"
  done < <(grep -nE "^(use|[^/]*new|[^/]*extends|[^/]*implements)[^;]*$bad" "$f" | grep -v '^\s*//' || true)
done

if [ $fail -eq 0 ]; then echo "layer-check: ok"; fi
exit $fail
