using ScrapeDo.Lean.Credits;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// How the emulator bills, in one place: a task costs what the core's <see cref="CreditTable"/> says; a finished task
/// is charged by <see cref="CreditTable.IsCharged"/> (target 2xx, 400, 404, 410; inferred for async), a canceled one
/// never; a create is refused with 429 and an error naming credits when the balance, less what the account's
/// unfinished tasks may still cost, cannot pay for the whole job (async-api.md §13.1: 429 "also possibly: out of
/// credits").
/// </summary>
internal static class Billing
{
    public static int CostPerTask(EmulatorOptions options, JobRequest request) =>
        (options.CreditTable ?? CreditTable.Default).CostPerTask(request.Render, request.Super, request.PluginKey);

    /// <summary>The 429 message when the account cannot pay for a job of <paramref name="cost"/>; null when it can. Caller holds the account's lock.</summary>
    public static string? Refusal(AccountState account, long cost)
    {
        long held = 0;
        foreach (JobState job in account.Jobs)
        {
            if (!job.IsTerminal)
            {
                held += (long)(job.Tasks.Length - Volatile.Read(ref job.Terminal)) * job.Request.CostPerTask;
            }
        }

        long free = Interlocked.Read(ref account.Credits) - held;
        return free < cost ? $"Insufficient credits: the job needs up to {cost}, the account has {Math.Max(0, free)} available." : null;
    }

    /// <summary>Credits a task that ended in <paramref name="phase"/> costs: its price when the table's rule charges it, else 0.</summary>
    public static int CostOf(TaskState task, TaskPhase phase) =>
        phase is TaskPhase.Success or TaskPhase.Error && CreditTable.IsCharged(phase == TaskPhase.Success, task.StatusCode)
            ? task.Job.Request.CostPerTask
            : 0;

    /// <summary>Bills a task that just finished (success or error).</summary>
    public static void Charge(AccountState account, TaskState task) =>
        Interlocked.Add(ref account.Credits, -CostOf(task, task.Phase));
}
