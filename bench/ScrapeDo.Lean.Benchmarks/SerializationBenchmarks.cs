using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>Parsing only, from a byte buffer (no sockets): where the time of a poll or a fetch goes. The <c>Lean_</c>
/// rows use the source-generated context; the client itself reads jobs and tasks with its hand-written readers, which
/// the per-call rig (<c>--percall-ratio --suites parse</c>) adds as <c>Lean</c> and shows these rows as <c>LeanSourceGen</c>.</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class SerializationBenchmarks
{
    private byte[] _job = null!;
    private byte[] _task = null!;
    private byte[] _htmlTask = null!;
    private static readonly global::Newtonsoft.Json.JsonSerializer NewtonsoftSerializer = global::Newtonsoft.Json.JsonSerializer.CreateDefault();

    [Params(2, 1000, 10000)]
    public int Tasks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _job = CannedServer.JobBody(Tasks);
        // A task whose base64 content grows with the parameter: 2 -> 2 KB, 1000 -> 1 MB, 10000 -> 10 MB.
        _task = CannedServer.TaskBody(Tasks * 1024, base64: true);
        // HTML content is JSON-escaped on the wire (\u003C …), which takes the unescaping path.
        _htmlTask = CannedServer.TaskBody(Tasks * 1024, base64: false);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ParseJob")] public JobDetails Lean_ParseJob() => System.Text.Json.JsonSerializer.Deserialize(_job, ScrapeDoJsonContext.Default.JobDetails)!;
    [Benchmark, BenchmarkCategory("ParseJob")] public PeerJob ReflectionStj_ParseJob() => System.Text.Json.JsonSerializer.Deserialize<PeerJob>(_job)!;
    [Benchmark, BenchmarkCategory("ParseJob")] public PeerJob Newtonsoft_ParseJob() => NewtonsoftParse<PeerJob>(_job);

    [Benchmark(Baseline = true), BenchmarkCategory("ParseTask")] public TaskDetails Lean_ParseTask() => System.Text.Json.JsonSerializer.Deserialize(_task, ScrapeDoJsonContext.Default.TaskDetails)!;
    [Benchmark, BenchmarkCategory("ParseTask")] public PeerTask ReflectionStj_ParseTask() => System.Text.Json.JsonSerializer.Deserialize<PeerTask>(_task)!;
    [Benchmark, BenchmarkCategory("ParseTask")] public PeerTask Newtonsoft_ParseTask() => NewtonsoftParse<PeerTask>(_task);

    [Benchmark(Baseline = true), BenchmarkCategory("ParseHtmlTask")] public TaskDetails Lean_ParseHtmlTask() => System.Text.Json.JsonSerializer.Deserialize(_htmlTask, ScrapeDoJsonContext.Default.TaskDetails)!;
    [Benchmark, BenchmarkCategory("ParseHtmlTask")] public PeerTask ReflectionStj_ParseHtmlTask() => System.Text.Json.JsonSerializer.Deserialize<PeerTask>(_htmlTask)!;

    private static T NewtonsoftParse<T>(byte[] bytes)
    {
        using var reader = new global::Newtonsoft.Json.JsonTextReader(new StreamReader(new MemoryStream(bytes)));
        return NewtonsoftSerializer.Deserialize<T>(reader)!;
    }
}
