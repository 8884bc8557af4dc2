using System.Text;
using ScrapeDo.Lean.Internal.Runner;
using Xunit.Abstractions;

namespace ScrapeDo.Lean.Tests;

/// <summary>
/// Issue 10 #8: the journal's memory stays flat with the size of the run. A 1,000,000-target journal (1000 jobs of
/// 1000 tasks) with every target but the last job's delivered is resumed; the managed heap it keeps is measured.
/// </summary>
[Collection(nameof(HeapMeasurements))]
public class JournalMemoryTests(ITestOutputHelper output)
{
    private const int Jobs = 1000;
    private const int PerJob = 1000;

    [Fact]
    public async Task Resuming_a_million_target_journal_keeps_the_heap_flat_and_reads_every_fact()
    {
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-mem-{Guid.NewGuid():N}.jsonl");
        try
        {
            WriteJournal(path);
            long fileBytes = new FileInfo(path).Length;
            long before = GC.GetTotalMemory(forceFullCollection: true);
            await using RunJournal journal = await RunJournal.OpenAsync(path, resume: true, chunkSize: PerJob, TestSupport.Timeout());
            long after = GC.GetTotalMemory(forceFullCollection: true);
            long held = after - before;
            output.WriteLine($"journal {fileBytes / 1_000_000.0:0.0} MB, {Jobs * PerJob} targets: heap held after resume-load {held / 1024.0:0} KiB; retired chunks {journal.State.RetiredChunks}");

            // Every fact survives: delivered targets, the last job's undelivered ones, every job id and the task ids
            // of the job still open.
            Assert.True(journal.IsDelivered(0));
            Assert.True(journal.IsDelivered(((long)Jobs - 1) * PerJob - 1));
            Assert.True(journal.IsDelivered(((long)Jobs - 1) * PerJob));
            Assert.False(journal.IsDelivered(((long)Jobs - 1) * PerJob + 1));
            Assert.Equal(Jobs, journal.State.JobIds().Count);
            Assert.True(journal.TryGetChunk(Jobs - 1, out JournalChunk? open));
            Assert.Equal(PerJob, open!.TaskIds!.Count);
            Assert.Equal(Jobs - 1, journal.State.RetiredChunks);
            // Flat: the old journal held every task id (~100 MB here) and a HashSet of every index; this holds
            // the open job's tasks, a record per job and a bitmap.
            Assert.True(held < 4 * 1024 * 1024, $"held {held} bytes");
            GC.KeepAlive(journal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void WriteJournal(string path)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("{\"t\":\"run\",\"n\":1000}\n");
        for (int c = 0; c < Jobs; c++)
        {
            long first = (long)c * PerJob;
            writer.Write($"{{\"t\":\"submit\",\"c\":{c},\"x\":{first},\"n\":{PerJob},\"at\":\"2026-11-28T21:25:00+00:00\",\"h\":\"0000000000000000\"}}\n");
            writer.Write($"{{\"t\":\"created\",\"c\":{c},\"job\":\"{Guid.NewGuid()}\",\"tasks\":[");
            for (int i = 0; i < PerJob; i++)
            {
                writer.Write(i == 0 ? "\"" : ",\"");
                writer.Write(Guid.NewGuid().ToString());
                writer.Write('"');
            }

            writer.Write("]}\n");
        }

        // Every target delivered except the last job's (only its first is).
        long delivered = ((long)Jobs - 1) * PerJob + 1;
        for (long x = 0; x < delivered; x++)
        {
            writer.Write($"{{\"t\":\"done\",\"x\":{x}}}\n");
        }
    }
}

/// <summary>
/// Tests that measure the process's heap run alone: other test classes run in parallel by default, and their
/// allocations would land in the measured difference (a CI run once saw 29 MB "held" that way).
/// </summary>
[CollectionDefinition(nameof(HeapMeasurements), DisableParallelization = true)]
public sealed class HeapMeasurements;
