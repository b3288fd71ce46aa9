#!/usr/bin/env bash
# Put the baseline of a profile at baselines/<profile>.json: the results of the latest green run
# on a branch (artifact "baseline-<profile>"), else the committed file, else none at all.
# Usage: fetch-baseline.sh PROFILE BRANCH   (needs GH_TOKEN with actions:read, and GITHUB_REPOSITORY)
set -euo pipefail

profile="$1"
branch="$2"
target="baselines/${profile}.json"
workdir="$(mktemp -d)"

# Pushes to main make the ci baseline; nightly and manual runs make the default one.
runs=$(gh run list --repo "$GITHUB_REPOSITORY" --workflow perf.yml --branch "$branch" \
    --status success --limit 30 --json databaseId --jq '.[].databaseId')

for run in $runs; do
    if gh run download "$run" --repo "$GITHUB_REPOSITORY" --name "baseline-${profile}" \
        --dir "$workdir" 2>/dev/null; then
        mkdir -p baselines
        mv "$workdir/results.json" "$target"
        echo "baseline: ${profile} results of run ${run} on ${branch}"
        exit 0
    fi
done

if [ -f "$target" ]; then
    echo "baseline: no green run on ${branch} kept one; using the committed ${target}"
else
    echo "baseline: none yet for ${profile} (budgets and plans are still checked)"
fi
