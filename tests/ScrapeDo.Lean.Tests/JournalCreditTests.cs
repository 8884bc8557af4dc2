using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// A resumed run's spend from its journal counts each target's charge once: tasks canceled by the run's own interrupt
/// (never charged) and resubmitted in a retry job are paid by the retry, not also by the canceled job.
/// </summary>
public class JournalCreditTests
{
    private const string At = "2026-11-28T21:25:00+00:00";

    private static string Submit(int chunk, long first, int count) =>
        $"{{\"t\":\"submit\",\"c\":{chunk},\"x\":{first},\"n\":{count},\"at\":\"{At}\",\"h\":\"0000000000000000\"}}";

    private static string Created(int chunk, string job, int tasks) =>
        $"{{\"t\":\"created\",\"c\":{chunk},\"job\":\"{job}\",\"tasks\":[{string.Join(',', Enumerable.Range(0, tasks).Select(i => $"\"{job}-t{i}\""))}]}}";

    private static string Retry(int chunk, params long[] indices) => $"{{\"t\":\"retry\",\"c\":{chunk},\"xs\":[{string.Join(',', indices)}]}}";

    private static async Task<long> SpentSoFarAsync(int costPerTask, params string[] lines)
    {
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-credit-{Guid.NewGuid():N}.jsonl");
        try
        {
            await File.WriteAllLinesAsync(path, lines);
            await using RunJournal journal = await RunJournal.OpenAsync(path, resume: true, chunkSize: 10, TestSupport.Timeout());
            return journal.State.SpentSoFar(costPerTask);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ParentIndex_inverts_RetryIndex_for_every_generation()
    {
        foreach (int chunk in new[] { 0, 1, 7, 0xFFFFFF })
        {
            int index = chunk;
            for (int generation = 1; generation <= 5; generation++)
            {
                int retry = InterruptRetry.RetryIndex(index);
                Assert.True(retry < 0);
                Assert.Equal(index, InterruptRetry.ParentIndex(retry));
                index = retry;
            }
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => InterruptRetry.ParentIndex(3));
    }

    [Fact]
    public async Task Two_interrupts_count_each_resubmitted_target_once_with_spend_lines()
    {
        int r1 = InterruptRetry.RetryIndex(0), r2 = InterruptRetry.RetryIndex(r1);
        long spent = await SpentSoFarAsync(
            1,
            "{\"t\":\"run\",\"n\":10}",
            Submit(0, 0, 10), Created(0, "a", 10), "{\"t\":\"spend\",\"c\":0,\"cr\":10}",
            "{\"t\":\"cancel\",\"job\":\"a\"}",
            // The resume resubmits the 6 tasks the first interrupt canceled, and is interrupted in turn.
            Retry(r1, 1, 2, 3, 5, 7, 9), Submit(r1, 1, 6), Created(r1, "b", 6), "{\"t\":\"spend\",\"c\":" + r1 + ",\"cr\":6}",
            "{\"t\":\"cancel\",\"job\":\"b\"}",
            Retry(r2, 3, 9), Submit(r2, 3, 2), Created(r2, "c", 2), "{\"t\":\"spend\",\"c\":" + r2 + ",\"cr\":2}");

        // 10 targets, each paid once: 4 by job a, 4 by job b, 2 by job c.
        Assert.Equal(10, spent);
    }

    [Fact]
    public async Task A_journal_whose_retry_jobs_have_no_spend_line_counts_them_at_the_table_price_once()
    {
        // Runners before this fix journaled no spend for a retry job; the retry still replaces the canceled tasks.
        int r1 = InterruptRetry.RetryIndex(0);
        long spent = await SpentSoFarAsync(
            2,
            "{\"t\":\"run\",\"n\":10}",
            Submit(0, 0, 10), Created(0, "a", 10), "{\"t\":\"spend\",\"c\":0,\"cr\":20}",
            Submit(1, 10, 10), Created(1, "d", 10),
            "{\"t\":\"cancel\",\"job\":\"a\"}",
            "{\"t\":\"cancel\",\"job\":\"d\"}",
            Retry(r1, 4, 5, 6), Submit(r1, 4, 3), Created(r1, "b", 3));

        Assert.Equal(40, spent);
    }

    [Fact]
    public async Task A_retry_not_yet_created_takes_its_targets_off_the_canceled_job()
    {
        // A crash between journaling the retry and creating its job: those targets are charged nowhere yet; the
        // resume reserves them when it creates the retry.
        int r1 = InterruptRetry.RetryIndex(0);
        long spent = await SpentSoFarAsync(
            1,
            "{\"t\":\"run\",\"n\":10}",
            Submit(0, 0, 10), Created(0, "a", 10), "{\"t\":\"spend\",\"c\":0,\"cr\":10}",
            "{\"t\":\"cancel\",\"job\":\"a\"}",
            Retry(r1, 0, 1, 2));

        Assert.Equal(7, spent);
    }

    [Fact]
    public void The_last_journaled_job_skips_chunks_refused_for_credits_or_failed_but_keeps_unanswered_ones()
    {
        var state = new JournalState();
        Assert.Equal(-1, state.MaxChunkWithJob);
        for (int c = 0; c < 4; c++)
        {
            state.Submitted(new JournalChunk { Chunk = c, FirstIndex = c * 10, Count = 10, SubmittedAt = DateTimeOffset.UnixEpoch, Hash = "h" });
        }

        state.Created(0, "job-0", ["t"], null);
        state.Created(1, "job-1", ["t"], null);
        state.Unsent(2);
        state.Created(3, null, null, "refused by the API");
        Assert.Equal(1, state.MaxChunkWithJob);

        // A create whose answer was never recorded may have made a job.
        state.Submitted(new JournalChunk { Chunk = 4, FirstIndex = 40, Count = 10, SubmittedAt = DateTimeOffset.UnixEpoch, Hash = "h" });
        Assert.Equal(4, state.MaxChunkWithJob);
    }
}
