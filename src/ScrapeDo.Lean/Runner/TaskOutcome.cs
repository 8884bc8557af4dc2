namespace ScrapeDo.Lean;

/// <summary>How a target ended.</summary>
public enum OutcomeStatus
{
    /// <summary>The task succeeded; the content is in <see cref="TaskOutcome.Details"/>.</summary>
    Success,

    /// <summary>The task ended in <c>error</c> on the server.</summary>
    Error,

    /// <summary>The task was canceled.</summary>
    Canceled,

    /// <summary>The content was past its retention (HTTP 410 or past <c>ExpiresAt</c>).</summary>
    Expired,

    /// <summary>The client could not get a result; <see cref="TaskOutcome.Reason"/> says why.</summary>
    Failed,
}

/// <summary>The one result of one input target.</summary>
public sealed class TaskOutcome
{
    /// <summary>0-based position of the target in the input.</summary>
    public required long InputIndex { get; init; }

    /// <summary>The target URL, or the plugin parameters as JSON.</summary>
    public required string Target { get; init; }

    /// <summary>How it ended; <see cref="StatusText"/> is its wire word.</summary>
    public required OutcomeStatus Status { get; init; }

    /// <summary>The former name of <see cref="Status"/>.</summary>
    [Obsolete("Use Status.")]
    public OutcomeStatus Kind => Status;

    /// <summary>The job that held the task, if one was created.</summary>
    public string? JobId { get; init; }

    /// <summary>The task id, if the task exists.</summary>
    public string? TaskId { get; init; }

    /// <summary>The target's HTTP status, when the task ran.</summary>
    public int? StatusCode { get; init; }

    /// <summary>Why the outcome is not a success (server error message or client failure).</summary>
    public string? Reason { get; init; }

    /// <summary>The task with its content, when it was fetched (without its content when <see cref="ContentLease"/> holds it).</summary>
    public TaskDetails? Details { get; init; }

    /// <summary>
    /// With <see cref="RunOptions.LeaseContent"/>: the task's content in a pooled buffer, which the consumer owns and
    /// disposes (null when the task returned no content, and always null without that option). <see cref="Details"/>
    /// then has an empty <see cref="TaskDetails.Content"/>. See <see cref="TaskContentLease"/> for the rules.
    /// </summary>
    public TaskContentLease? ContentLease { get; init; }

    /// <summary>The wire word of <see cref="Status"/> (the JSONL <c>status</c>): success, error, canceled, expired or failed.</summary>
    public string StatusText => Status switch
    {
        OutcomeStatus.Success => "success",
        OutcomeStatus.Error => "error",
        OutcomeStatus.Canceled => "canceled",
        OutcomeStatus.Expired => "expired",
        _ => "failed",
    };

    /// <inheritdoc/>
    public override string ToString() => $"{InputIndex} {StatusText} {Target}";
}
