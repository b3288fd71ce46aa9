"""The verdict: the results file, its typed records, the rules and the gate's self-test."""
