namespace ScrapeDo.Lean.Internal.Http;

/// <summary>
/// Client-wide token bucket for retries (the gRPC throttling scheme): a retry spends one token, a success earns
/// a fraction back, and retries stop while fewer than half the tokens remain. When many polls fail together,
/// this keeps them from all coming back together.
/// </summary>
internal sealed class RetryBudget
{
    private const long Scale = 1000;
    private readonly long _max;
    private readonly long _refill;
    private long _tokens;

    public RetryBudget(int tokens, double refillPerSuccess)
    {
        _max = tokens * Scale;
        // A refill past the whole budget (up to +Infinity, which options allow) fills it at once: taken as the budget
        // itself, so the scaled sum below cannot overflow to a negative count and turn retries off for good.
        _refill = (long)(Math.Min(refillPerSuccess, tokens) * Scale);
        _tokens = _max;
    }

    public bool Enabled => _max > 0;

    public bool TryWithdraw()
    {
        if (!Enabled)
        {
            return true;
        }

        while (true)
        {
            long current = Volatile.Read(ref _tokens);
            long next = current - Scale;
            if (next < _max / 2)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _tokens, next, current) == current)
            {
                return true;
            }
        }
    }

    public void RecordSuccess()
    {
        if (!Enabled || _refill == 0 || Volatile.Read(ref _tokens) >= _max)
        {
            return;
        }

        while (true)
        {
            long current = Volatile.Read(ref _tokens);
            long next = Math.Min(_max, current + _refill);
            if (next == current || Interlocked.CompareExchange(ref _tokens, next, current) == current)
            {
                return;
            }
        }
    }
}

internal static class Backoff
{
    /// <summary>Full jitter: a uniform delay in [0, min(max, base * 2^(retry-1))].</summary>
    public static TimeSpan FullJitter(int retryNumber, TimeSpan baseDelay, TimeSpan maxDelay, double unitRandom)
    {
        double cap = baseDelay.Ticks * Math.Pow(2, Math.Min(retryNumber - 1, 30));
        cap = Math.Min(cap, maxDelay.Ticks);
        return TimeSpan.FromTicks((long)(cap * unitRandom));
    }
}
