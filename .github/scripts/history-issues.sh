#!/usr/bin/env bash
# One issue per benchmark with a new change point: "perf: change point in <benchmark>", opened
# when none is open, else a comment on the open one. Reads the --json file of `pgperf history`.
# Usage: history-issues.sh HISTORY_JSON   (needs GH_TOKEN with issues:write, GITHUB_REPOSITORY;
# RUN_URL, when set, links the run that found them)
set -euo pipefail

history="$1"
subjects=$(jq -r '[.change_points[] | select(.new) | .benchmark] | unique | .[]' "$history")
if [ -z "$subjects" ]; then
    echo "history: no new change point, no issue"
    exit 0
fi

while IFS= read -r subject; do
    title="perf: change point in ${subject}"
    body=$(jq -r --arg s "$subject" '
        "New change points found by the nightly history:\n\n" +
        ([.change_points[] | select(.new and .benchmark == $s) |
          "- **\(.metric)** (\(.kind)): \(.before) → \(.after)" +
          (if .change == null then "" else
            " (\(if .change >= 0 then "+" else "" end)\(.change * 100 | round)%)" end) +
          " from run \(.run), commit `\(.commit // "unknown")`, \(.date)"] | join("\n"))
        ' "$history")
    body="${body}${RUN_URL:+

[The history page and the runs](${RUN_URL})}"
    # The search is fuzzy: only an exact title is the same issue.
    numbers=$(gh issue list --repo "$GITHUB_REPOSITORY" --state open --search "\"${title}\" in:title" \
        --json number,title | jq -r --arg t "$title" '.[] | select(.title == $t) | .number')
    existing="${numbers%%$'\n'*}"
    if [ -n "$existing" ]; then
        gh issue comment "$existing" --repo "$GITHUB_REPOSITORY" --body "$body" > /dev/null
        echo "history: updated issue #${existing}: ${title}"
    else
        gh issue create --repo "$GITHUB_REPOSITORY" --title "$title" --body "$body" > /dev/null
        echo "history: opened an issue: ${title}"
    fi
done <<< "$subjects"
