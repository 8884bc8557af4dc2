using ScrapeDo.Lean.Internal;
namespace ScrapeDo.Lean;

/// <summary>
/// How failed attempts are retried: full-jitter exponential backoff, <c>Retry-After</c> honoured up to a cap,
/// and a client-wide retry budget so that a burst of failures cannot become a burst of retries.
/// </summary>
/// <remarks>
/// GET and DELETE are retried on transport errors, attempt timeouts and HTTP 408, 429, 500, 502, 503 and 504.
/// <c>POST /api/v1/jobs</c> is retried only where the server provably did not create the job: the connection
/// was refused, or the API itself answered 408, 429 or 503. A 500 (which can follow a committed job), a 502/504
/// (a gateway speaking for an upstream that may have acted), a dropped connection or a timeout leave it unknown
/// whether a billed job exists, so the create fails with <see cref="ScrapeDoException.CreateOutcomeUnknown"/> set
/// and is never replayed blindly.
/// </remarks>
public sealed class ScrapeDoRetryOptions
{
    /// <summary>Total attempts per call including the first (default 4). 1 disables retries.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Backoff cap for the first retry (default 200 ms); each further retry doubles it.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of the jittered backoff (default 10 s).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest <c>Retry-After</c> the client will wait (default 60 s); a longer hint fails the call.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Size of the retry budget in tokens (default 100). Each retry spends one token, each successful response
    /// earns <see cref="BudgetRefillPerSuccess"/>; retries stop while fewer than half the tokens remain.
    /// 0 disables the budget.
    /// </summary>
    public int BudgetTokens { get; init; } = 100;

    /// <summary>Tokens earned per successful response (default 0.1, so sustained retries stay near 10 % of traffic); a
    /// value of <see cref="BudgetTokens"/> or more (up to <see cref="double.PositiveInfinity"/>) refills the whole budget
    /// on every success.</summary>
    public double BudgetRefillPerSuccess { get; init; } = 0.1;

    internal void Validate()
    {
        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "Retry.MaxAttempts must be at least 1.");
        }

        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "Retry delays must satisfy 0 <= BaseDelay <= MaxDelay.");
        }

        if (MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetryAfter), MaxRetryAfter, "Retry.MaxRetryAfter must not be negative.");
        }

        TimerLimit.ThrowIfTooLong(MaxDelay, nameof(MaxDelay), "Retry.MaxDelay");
        TimerLimit.ThrowIfTooLong(MaxRetryAfter, nameof(MaxRetryAfter), "Retry.MaxRetryAfter");

        if (BudgetTokens < 0 || BudgetRefillPerSuccess < 0 || double.IsNaN(BudgetRefillPerSuccess))
        {
            throw new ArgumentOutOfRangeException(nameof(BudgetTokens), "Retry budget values must not be negative.");
        }
    }
}
