#!/usr/bin/env bash
# Download the results of the last runs of a profile on a branch (artifact perf-report-<profile>),
# newest first, into DIR/run-<id>/, for `pgperf history`. Artifacts expire after 90 days, so
# there may be fewer than asked for. The current run (GITHUB_RUN_ID) is left out: the job
# takes its results from this run's own artifact.
# Usage: fetch-history.sh PROFILE BRANCH COUNT DIR   (needs GH_TOKEN with actions:read, GITHUB_REPOSITORY)
set -euo pipefail

profile="$1"
branch="$2"
count="$3"
dir="$4"
mkdir -p "$dir"

# Failed runs count too: a verdict that failed still measured the run.
runs=$(gh run list --repo "$GITHUB_REPOSITORY" --workflow perf.yml --branch "$branch" \
    --status completed --limit 100 --json databaseId --jq '.[].databaseId')

got=0
for run in $runs; do
    [ "$got" -lt "$count" ] || break
    [ "$run" != "${GITHUB_RUN_ID:-}" ] || continue
    if gh run download "$run" --repo "$GITHUB_REPOSITORY" --name "perf-report-${profile}" \
        --dir "$dir/run-${run}" 2>/dev/null && [ -f "$dir/run-${run}/results.json" ]; then
        got=$((got + 1))
    else
        rm -rf "${dir:?}/run-${run}"
    fi
done
echo "history: ${got} earlier ${profile} results from ${branch} (asked for ${count})"
