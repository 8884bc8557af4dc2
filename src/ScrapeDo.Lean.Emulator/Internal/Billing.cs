using ScrapeDo.Lean.Credits;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// How the emulator bills, in one place: a task costs what the core's <see cref="CreditTable"/> says; only tasks that
/// succeed are charged (<see cref="CreditTable.IsCharged"/>, inferred for async); a create is refused with 429 and an
/// error naming credits when the balance, less what the account's unfinished tasks may still cost, cannot pay for
/// the whole job (async-api.md §13.1: 429 "also possibly: out of credits").
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

    public static void Charge(AccountState account, JobRequest request, bool succeeded)
    {
        if (CreditTable.IsCharged(succeeded))
        {
            Interlocked.Add(ref account.Credits, -request.CostPerTask);
        }
    }
}
