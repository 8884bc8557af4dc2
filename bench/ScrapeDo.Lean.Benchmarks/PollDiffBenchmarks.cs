using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// Issue 14, target 4 (a runner poll of a 1,000-task job in which at most 10 tasks changed: at most 8 KB allocated and
/// 1.3× the floor's time). The canned 1,000-task body lists 334 finished tasks; the run's table has claimed all but 10
/// of them, so each poll finds exactly 10 newly finished tasks, as a re-poll after a few tasks changed does.
/// Rows over the canned loopback server: the floor (raw HttpClient, body read into a pooled buffer, not parsed), the
/// public <see cref="ScrapeDoClient.GetJobAsync(string, CancellationToken)"/> (full <see cref="JobDetails"/>) followed by the old diff, and the
/// runner's diff path. The runner's diff keeps the last body as a memo and skips task objects that did not change
/// byte for byte, so the same body polled again would flatter it: the *_10Changed rows poll a job whose body
/// alternates between two that differ in 10 tasks (<see cref="CannedServer.ChangingJob"/>), so every poll reads 10 changed
/// task objects, as a re-poll after a few tasks finished does. The parse-only rows take HTTP out. Allocated bytes are the
/// figure here (stable on a shared box); times are only indicative.
/// Run: dotnet run -c Release --project bench/ScrapeDo.Lean.Benchmarks -- --filter '*PollDiff*'
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PollDiffBenchmarks
{
    private const int Tasks = 1000;
    private const int Changed = 10;

    private Rig.ServerProcess _server = null!;
    private HttpClient _http = null!;
    private ScrapeDoClient _lean = null!;
    private Uri _bigJob = null!;
    private byte[] _body = null!;
    private ChunkTasks _table = null!;
    private PollDiff _diff = null!;
    private PollDiff _changingDiff = null!;
    private PollDiff _bufferedDiff = null!;
    private byte[][] _changingBodies = null!;
    private int _parses;
    private readonly List<FinishedTask> _finished = new(Tasks);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        // The canned server in its own process, pinned to the other core, as the rest of the rig runs it.
        _server = await Rig.ServerProcess.StartAsync(Rig.ServerKind.Canned);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = _server.BaseAddress });
        _bigJob = new Uri(_server.BaseAddress, "api/v1/jobs/" + CannedServer.BigJob);
        _body = CannedServer.JobBody(Tasks);

        var ids = Enumerable.Range(0, Tasks).Select(CannedServer.TaskId).ToArray();
        var items = Enumerable.Range(0, Tasks).Select(i => new RunItem(i, $"https://site.example/products/{i}", null)).ToList();
        _table = new ChunkTasks(CannedServer.BigJob, ids, items);
        // CannedServer marks every third task finished; all but the last ten of those were taken by earlier polls.
        int[] finished = Enumerable.Range(0, Tasks).Where(i => i % 3 == 0).ToArray();
        foreach (int i in finished[..^Changed])
        {
            _table.TryClaim(i);
        }

        _changingBodies = [CannedServer.JobBody(Tasks, 0, CannedServer.ChangingJob), CannedServer.JobBody(Tasks, CannedServer.ChangedPerPoll, CannedServer.ChangingJob)];
        _changingDiff = new PollDiff(Table(CannedServer.ChangingJob));
        _bufferedDiff = new PollDiff(Table(CannedServer.ChangingJob));
        _diff = new PollDiff(_table);
        // Warm the diff's per-chunk table index once, as the runner's first lean poll does.
        System.Text.Json.JsonSerializer.Deserialize(_body, _diff.TypeInfo);
        if (_diff.Finished.Count != Changed)
        {
            throw new InvalidOperationException($"Expected {Changed} newly finished tasks, found {_diff.Finished.Count}.");
        }

        // The alternating rows must really read 10 changed task objects a poll and skip the rest.
        for (int i = 0; i < 3; i++)
        {
            int skippedOverHttp = await PollDiff_Poll1000_10Changed();
            int skippedInMemory = PollDiff_Buffered_ParsePoll1000_10Changed();
            if (i > 0 && (skippedOverHttp != Tasks - CannedServer.ChangedPerPoll || skippedInMemory != Tasks - CannedServer.ChangedPerPoll))
            {
                throw new InvalidOperationException($"Expected {Tasks - CannedServer.ChangedPerPoll} skipped task objects, found {skippedOverHttp} and {skippedInMemory}.");
            }
        }
    }

    private static ChunkTasks Table(string jobId)
    {
        var ids = Enumerable.Range(0, Tasks).Select(CannedServer.TaskId).ToArray();
        var items = Enumerable.Range(0, Tasks).Select(i => new RunItem(i, $"https://site.example/products/{i}", null)).ToList();
        var table = new ChunkTasks(jobId, ids, items);
        foreach (int i in Enumerable.Range(0, Tasks).Where(i => i % 3 == 0))
        {
            table.TryClaim(i);
        }

        return table;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _changingDiff.Dispose();
        _bufferedDiff.Dispose();
        _lean.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Poll1000")]
    public async Task<int> Floor_Poll1000()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _bigJob);
        request.Headers.TryAddWithoutValidation("X-Token", CannedServer.Token);
        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using Stream stream = await response.Content.ReadAsStreamAsync();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_body.Length + 1024);
        try
        {
            int total = 0, n;
            while ((n = await stream.ReadAsync(buffer.AsMemory(total))) > 0)
            {
                total += n;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>What the runner did before: the full read, then the diff over the parsed snapshot.</summary>
    [Benchmark, BenchmarkCategory("Poll1000")]
    public async Task<int> GetJobAsync_then_diff_Poll1000()
    {
        JobDetails job = await _lean.GetJobAsync(CannedServer.BigJob);
        _finished.Clear();
        SnapshotDiff.FindFinished(job.Tasks, _table, _finished);
        return _finished.Count;
    }

    [Benchmark, BenchmarkCategory("Poll1000")]
    public async Task<int> PollDiff_Poll1000()
    {
        await _lean.PollJobAsync(CannedServer.BigJob, _diff, CancellationToken.None);
        return _diff.Finished.Count;
    }

    /// <summary>The runner's poll when 10 task objects changed since the last poll (the body alternates).</summary>
    [Benchmark, BenchmarkCategory("Poll1000")]
    public async Task<int> PollDiff_Poll1000_10Changed()
    {
        await _lean.PollJobAsync(CannedServer.ChangingJob, _changingDiff, CancellationToken.None);
        return _changingDiff.SkippedTasks;
    }

    /// <summary>The pipeline's buffered read of a body 10 tasks away from the memo (includes copying it into the pooled buffer).</summary>
    [Benchmark, BenchmarkCategory("ParsePoll1000")]
    public int PollDiff_Buffered_ParsePoll1000_10Changed()
    {
        byte[] body = _changingBodies[++_parses & 1];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(buffer, 0);
        _bufferedDiff.Read(buffer, body.Length, out bool kept);
        if (!kept)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return _bufferedDiff.SkippedTasks;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ParsePoll1000")]
    public int FullRead_then_diff_ParsePoll1000()
    {
        JobDetails job = System.Text.Json.JsonSerializer.Deserialize(_body, JobDetailsReader.TypeInfo)!;
        _finished.Clear();
        SnapshotDiff.FindFinished(job.Tasks, _table, _finished);
        return _finished.Count;
    }

    /// <summary>The lower bound for any reader that validates the body as JSON: the tokenizer alone, nothing read.</summary>
    [Benchmark, BenchmarkCategory("ParsePoll1000")]
    public int TokenWalkOnly_ParsePoll1000()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_body);
        int tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens;
    }

    [Benchmark, BenchmarkCategory("ParsePoll1000")]
    public int PollDiff_ParsePoll1000()
    {
        System.Text.Json.JsonSerializer.Deserialize(_body, _diff.TypeInfo);
        return _diff.Finished.Count;
    }
}
