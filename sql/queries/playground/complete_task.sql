-- pgperf: {"params": {"task_id": "step", "input_tokens": 180, "output_tokens": 420, "response": {"finish_reason": "stop", "usage": {"prompt_tokens": 180, "completion_tokens": 420}}}, "indexes": ["tasks_pkey", "users_pkey"], "write": 2}
-- The worker reports the result: the task completes, its cost is charged to the ledger and
-- taken from the user's balance, in one statement.
WITH done AS (
    UPDATE tasks t
    SET status = 'completed',
        started_at = t.created_at,
        completed_at = clock_timestamp(),
        latency_ms = 1850,
        input_tokens = %(input_tokens)s,
        output_tokens = %(output_tokens)s,
        credits_used = round((%(input_tokens)s + %(output_tokens)s) / 1000.0 * m.cost_per_1k_tokens, 4),
        response_metadata = %(response)s
    FROM provider_models m
    WHERE t.id = %(task_id)s
      AND m.id = t.provider_model_id
      AND t.status = 'pending'
    RETURNING t.id, t.user_id, t.credits_used
), charge AS (
    INSERT INTO credit_ledger (user_id, task_id, delta, reason)
    SELECT user_id, id, -credits_used, 'task_charge'
    FROM done
    WHERE credits_used > 0
    RETURNING delta
)
UPDATE users u
SET credits_balance = greatest(u.credits_balance + (SELECT coalesce(sum(delta), 0) FROM charge), 0)
FROM done
WHERE u.id = done.user_id
RETURNING u.credits_balance;
