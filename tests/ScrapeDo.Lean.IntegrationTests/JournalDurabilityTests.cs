using System.Text;
using ScrapeDo.Lean.Emulator;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Issue 11 #1 and issue 10 #9 at library level: an outcome is journaled <c>done</c> only once the consumer's sink
/// holds it (a sink that fails like a full disk loses nothing), a journal that fails stops the run without a second
/// job on resume, and one journal serves one run at a time.
/// </summary>
public class JournalDurabilityTests
{
    private static RunOptions Journaled(string journal, bool resume = false, Func<CancellationToken, ValueTask>? flush = null) => new()
    {
        MaxTargetsPerJob = 10,
        MaxJobsInFlight = 3,
        JournalPath = journal,
        Resume = resume,
        CancelJobsOnCancellation = false,
        FlushSink = flush,
        MaxUnflushedOutcomes = 4,
        FirstPollDelay = TimeSpan.FromMilliseconds(20),
        MinPollInterval = TimeSpan.FromMilliseconds(20),
        MaxPollInterval = TimeSpan.FromMilliseconds(200),
    };

    private static string TempJournal() => Path.Combine(Path.GetTempPath(), $"scrapedo-durable-{Guid.NewGuid():N}.jsonl");

    private static HashSet<long> DoneMarks(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains("\"t\":\"done\"", StringComparison.Ordinal))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("x").GetInt64()).ToHashSet();

    /// <summary>The input indices of the whole lines in a sink (a torn last line is cut, as the CLI does).</summary>
    private static List<long> WholeRecords(byte[] sink)
    {
        string text = Encoding.UTF8.GetString(sink);
        int end = text.LastIndexOf('\n') + 1;
        return text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => long.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }

    private static async Task ConsumeAsync(IAsyncEnumerable<TaskOutcome> outcomes, Stream sink)
    {
        await foreach (TaskOutcome o in outcomes)
        {
            // A record as long as a real one, so a full disk tears it.
            byte[] record = Encoding.UTF8.GetBytes($"{o.InputIndex} {o.StatusText} {new string('x', 200)}\n");
            await sink.WriteAsync(record);
        }
    }

    [Fact]
    public async Task A_sink_that_fails_like_a_full_disk_loses_no_record_and_resume_gives_exactly_one_per_target()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        string journal = TempJournal();
        string[] urls = Support.Urls(60);
        try
        {
            var first = new FailingStream(new MemoryStream(), failAfterBytes: 2_500);
            await Assert.ThrowsAsync<IOException>(() => ConsumeAsync(
                new ScrapeDoRunner(client, Journaled(journal, flush: ct => new ValueTask(first.FlushAsync(ct)))).RunAsync(urls, cancellationToken: Support.Timeout()), first));

            List<long> kept = WholeRecords(first.Written);
            HashSet<long> done = DoneMarks(journal);
            Assert.NotEmpty(done);
            // The rule: nothing is acknowledged that the sink does not hold whole.
            Assert.Subset(kept.ToHashSet(), done);

            // Space freed: the resume appends to what the sink kept.
            var second = new MemoryStream();
            await ConsumeAsync(new ScrapeDoRunner(client, Journaled(journal, resume: true, flush: ct => new ValueTask(second.FlushAsync(ct)))).RunAsync(urls, cancellationToken: Support.Timeout()), second);
            var all = kept.Concat(WholeRecords(second.ToArray())).ToList();
            // At-least-once across the crash (a record flushed but not yet journaled comes again), never none.
            Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), all.Distinct().Order());
            Assert.Equal(6, emulator.Counters.Jobs);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task Without_a_flush_hook_each_outcome_is_journaled_once_the_consumer_asks_for_the_next()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        string journal = TempJournal();
        try
        {
            int seen = 0;
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal)).RunAsync(Support.Urls(20), cancellationToken: Support.Timeout()))
            {
                if (++seen == 5)
                {
                    break;
                }
            }

            Assert.Equal(5, DoneMarks(journal).Count);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task A_journal_that_fails_stops_the_run_with_one_line_and_the_resume_creates_no_job_twice()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        using var client = Support.Client(emulator);
        string journal = TempJournal();
        string full = Path.GetFullPath(journal);
        FailingStream? failing = null;
        RunJournal.TestStreamWrapper = (path, s) => path == full ? failing = new FailingStream(s, long.MaxValue) : s;
        string[] urls = Support.Urls(30);
        var first = new List<long>();
        try
        {
            IOException error = await Assert.ThrowsAsync<IOException>(async () =>
            {
                await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal)).RunAsync(urls, cancellationToken: Support.Timeout()))
                {
                    first.Add(o.InputIndex);
                    if (first.Count == 5)
                    {
                        // The disk fills: the next journal write is torn.
                        failing!.FailAfter(10);
                    }
                }
            });
            RunJournal.TestStreamWrapper = null;

            Assert.Contains("journal", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
            Assert.Equal(3, emulator.Counters.Jobs);

            var second = new List<long>();
            await foreach (TaskOutcome o in new ScrapeDoRunner(client, Journaled(journal, resume: true)).RunAsync(urls, cancellationToken: Support.Timeout()))
            {
                second.Add(o.InputIndex);
            }

            Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), first.Concat(second).Distinct().Order());
            Assert.Equal(3, emulator.Counters.Jobs);
        }
        finally
        {
            RunJournal.TestStreamWrapper = null;
            File.Delete(journal);
        }
    }

    [Fact]
    public async Task A_second_run_on_the_same_journal_fails_at_once_and_a_stale_lock_file_blocks_nothing()
    {
        string journal = TempJournal();
        try
        {
            await using (RunJournal held = await RunJournal.OpenAsync(journal, resume: false, chunkSize: 10, Support.Timeout()))
            {
                InvalidOperationException second = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => RunJournal.OpenAsync(journal, resume: true, chunkSize: 10, Support.Timeout()));
                Assert.Contains("in use by another run", second.Message, StringComparison.Ordinal);
            }

            // Another spelling of the same file takes the same lock: a symbolic link to the journal, and one to its folder.
            await using (RunJournal held = await RunJournal.OpenAsync(journal, resume: true, chunkSize: 10, Support.Timeout()))
            {
                string fileLink = journal + ".link";
                string folderLink = Path.Combine(Path.GetTempPath(), "scrapedo-journal-folder-" + Guid.NewGuid().ToString("N"));
                File.CreateSymbolicLink(fileLink, journal);
                Directory.CreateSymbolicLink(folderLink, Path.GetDirectoryName(journal)!);
                try
                {
                    foreach (string other in new[] { fileLink, Path.Combine(folderLink, Path.GetFileName(journal)) })
                    {
                        Assert.True(RunJournal.IsHeldByAnotherRun(other), other);
                        InvalidOperationException viaLink = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => RunJournal.OpenAsync(other, resume: true, chunkSize: 10, Support.Timeout()));
                        Assert.Contains("in use by another run", viaLink.Message, StringComparison.Ordinal);
                    }
                }
                finally
                {
                    File.Delete(fileLink);
                    Directory.Delete(folderLink);
                }
            }

            // A crashed process leaves its lock file behind but not its lock (flock dies with the process).
            await File.WriteAllTextAsync(journal + ".lock", "");
            await using RunJournal again = await RunJournal.OpenAsync(journal, resume: true, chunkSize: 10, Support.Timeout());
            Assert.Equal(10, again.ChunkSize);
        }
        finally
        {
            File.Delete(journal);
            File.Delete(journal + ".lock");
        }
    }
}

/// <summary>A stream that accepts a number of bytes, then fails every write and flush as a full disk does.</summary>
internal sealed class FailingStream(Stream inner, long failAfterBytes) : Stream
{
    private long _limit = failAfterBytes;
    private long _written;
    private bool _failed;

    public byte[] Written => inner is MemoryStream m ? m.ToArray() : [];

    /// <summary>From now on, accept <paramref name="bytes"/> more bytes.</summary>
    public void FailAfter(long bytes) => Interlocked.Exchange(ref _limit, Interlocked.Read(ref _written) + bytes);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override void Flush()
    {
        if (_failed)
        {
            throw new IOException("No space left on device");
        }

        inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The stream it wraps still holds what was written before the failure (a torn line included).
            try
            {
                inner.Dispose();
            }
            catch (IOException)
            {
            }
        }

        base.Dispose(disposing);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long room = Interlocked.Read(ref _limit) - _written;
        if (_failed || room < buffer.Length)
        {
            if (!_failed && room > 0)
            {
                inner.Write(buffer[..(int)room]);
                _written += room;
            }

            _failed = true;
            throw new IOException("No space left on device");
        }

        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }
}
