using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// Issue 14, target 3 (GetJob2 allocated at most floor + 1 KB): the raw-HttpClient floor against the client on the
/// same canned loopback server, and the get-job parse alone, generated reader against the hand-written one the client
/// uses. Allocated bytes are the figure here (stable on a shared box); times are only indicative.
/// Run: dotnet run -c Release --project bench/ScrapeDo.Lean.Benchmarks -- --filter '*LeanAllocation*' --inProcess
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class LeanAllocationBenchmarks
{
    private Rig.ServerProcess _server = null!;
    private HttpClient _http = null!;
    private ScrapeDoClient _lean = null!;
    private Uri _smallJob = null!;
    private byte[] _job2 = null!, _job1000 = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _server = await Rig.ServerProcess.StartAsync(Rig.ServerKind.Canned);
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = _server.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _lean = new ScrapeDoClient(new ScrapeDoClientOptions { Token = CannedServer.Token, BaseAddress = _server.BaseAddress });
        _smallJob = new Uri(_server.BaseAddress, "api/v1/jobs/" + CannedServer.SmallJob);
        _job2 = CannedServer.JobBody(2);
        _job1000 = CannedServer.JobBody(1000);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _lean.Dispose();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("GetJob2")]
    public async Task<int> Floor_GetJob2()
    {
        // The same floor as PerCallBenchmarks: raw HttpClient, body read into a pooled buffer, not parsed.
        using var request = new HttpRequestMessage(HttpMethod.Get, _smallJob);
        request.Headers.TryAddWithoutValidation("X-Token", CannedServer.Token);
        return await PerCallBase.DrainAsync(_http, request);
    }

    [Benchmark, BenchmarkCategory("GetJob2")] public Task<JobDetails> Lean_GetJob2() => _lean.GetJobAsync(CannedServer.SmallJob);

    [Benchmark(Baseline = true), BenchmarkCategory("ParseJob2")] public JobDetails Generated_ParseJob2() => System.Text.Json.JsonSerializer.Deserialize(_job2, ScrapeDoJsonContext.Default.JobDetails)!;

    [Benchmark, BenchmarkCategory("ParseJob2")] public JobDetails Reader_ParseJob2() => System.Text.Json.JsonSerializer.Deserialize(_job2, JobDetailsReader.TypeInfo)!;

    [Benchmark(Baseline = true), BenchmarkCategory("ParseJob1000")] public JobDetails Generated_ParseJob1000() => System.Text.Json.JsonSerializer.Deserialize(_job1000, ScrapeDoJsonContext.Default.JobDetails)!;

    [Benchmark, BenchmarkCategory("ParseJob1000")] public JobDetails Reader_ParseJob1000() => System.Text.Json.JsonSerializer.Deserialize(_job1000, JobDetailsReader.TypeInfo)!;
}

/// <summary>
/// Issue 14, target 2: the 10 MB JSON-escaped HTML content (every tag written as \u003C…\u003E, as the API and
/// System.Text.Json escape it). Unescape rows: one reader Read() over the string token, then the decode, so every row
/// pays the reader's own validation scan. End-to-end rows: the whole task parsed buffered (span) and streamed (the path
/// of a response without Content-Length and of the webhook receiver), client against the reflection serializer
/// decoding Content to a string.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EscapedHtmlBenchmarks
{
    private byte[] _task = null!;
    private byte[] _quoted = null!;

    [GlobalSetup]
    public void Setup()
    {
        _task = CannedServer.TaskBody(10 * 1024 * 1024, base64: false);
        var reader = new System.Text.Json.Utf8JsonReader(_task);
        while (reader.Read() && !(reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.ValueTextEquals("Content"u8)))
        {
        }

        reader.Read();
        _quoted = [(byte)'"', .. reader.ValueSpan, (byte)'"'];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Unescape10MB")]
    public int Stj_GetString()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_quoted);
        reader.Read();
        return reader.GetString()!.Length;
    }

    [Benchmark, BenchmarkCategory("Unescape10MB")]
    public int Stj_CopyString()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_quoted);
        reader.Read();
        byte[] scratch = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            int written = reader.CopyString(scratch);
            return scratch.AsSpan(0, written).ToArray().Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    [Benchmark, BenchmarkCategory("Unescape10MB")]
    public int Lean_TwoPass_Before()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_quoted);
        reader.Read();
        return TwoPassUnescaper.Unescape(reader.ValueSpan).Length;
    }

    [Benchmark, BenchmarkCategory("Unescape10MB")]
    public int Lean_HandLoop()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_quoted);
        reader.Read();
        return JsonUnescaper.Unescape(reader.ValueSpan).Length;
    }

    [Benchmark, BenchmarkCategory("Unescape10MB")]
    public int Lean_Shipped()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_quoted);
        reader.Read();
        return JsonUnescaper.Unescape(ref reader).Length;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Task10MBBuffered")]
    public int Stj_Buffered() => System.Text.Json.JsonSerializer.Deserialize<PeerTask>(_task)!.Content!.Length;

    [Benchmark, BenchmarkCategory("Task10MBBuffered")]
    public int Lean_Buffered() => System.Text.Json.JsonSerializer.Deserialize(_task, TaskDetailsReader.TypeInfo)!.Content.Length;

    [Benchmark(Baseline = true), BenchmarkCategory("Task10MBStreamed")]
    public async Task<int> Stj_Streamed() => (await System.Text.Json.JsonSerializer.DeserializeAsync<PeerTask>(new MemoryStream(_task, writable: false)))!.Content!.Length;

    /// <summary>The client's own path for an answer without a length (a Go server sends a large body chunked):
    /// <see cref="ScrapeDoClient.GetTaskAsync(string, string, CancellationToken)"/> over a handler that answers from
    /// memory with a stream that cannot report its length.</summary>
    [Benchmark, BenchmarkCategory("Task10MBStreamed")]
    public async Task<int> Lean_Streamed() => (await StreamedClient.GetTaskAsync("j", "t")).Content.Length;

    private ScrapeDoClient StreamedClient => _streamedClient ??= new ScrapeDoClient(new ScrapeDoClientOptions
    {
        Token = "bench-token",
        BaseAddress = new Uri("https://in-memory.invalid/"), // never dialled: the handler answers
        HttpMessageHandler = new LengthlessAnswerHandler(_task),
    });

    private ScrapeDoClient? _streamedClient;

    private sealed class LengthlessAnswerHandler(byte[] body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StreamContent(new UnseekableStream(body)) });
    }

    // StreamContent reports a length for any seekable stream; this one hides it, as a chunked answer has none.
    private sealed class UnseekableStream(byte[] body) : MemoryStream(body, writable: false)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>
/// The same rows as <see cref="EscapedHtmlBenchmarks"/>, timed as process CPU per operation (medians of interleaved
/// rounds) rather than wall time: on a shared, loaded 2-core box a single-threaded parse's CPU time is what stays
/// comparable. Not wired into Program.cs (an existing file of another owner); call <c>EscapedHtmlCpuHarness.Run(21)</c>
/// from any console entry point that references this project.
/// </summary>
public static class EscapedHtmlCpuHarness
{
    public static void Run(int rounds)
    {
        var b = new EscapedHtmlBenchmarks();
        b.Setup();
        var variants = new (string Name, Func<int> Run)[]
        {
            ("Stj_GetString", b.Stj_GetString), ("Stj_CopyString", b.Stj_CopyString), ("Lean_TwoPass_Before", b.Lean_TwoPass_Before), ("Lean_HandLoop", b.Lean_HandLoop), ("Lean_Shipped", b.Lean_Shipped),
            ("Stj_Buffered", b.Stj_Buffered), ("Lean_Buffered", b.Lean_Buffered),
            ("Stj_Streamed", () => b.Stj_Streamed().GetAwaiter().GetResult()), ("Lean_Streamed", () => b.Lean_Streamed().GetAwaiter().GetResult()),
        };
        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>());
        foreach (var v in variants)
        {
            for (int i = 0; i < 3; i++)
            {
                v.Run();
            }
        }

        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int r = 0; r < rounds; r++)
        {
            foreach (var v in variants)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                process.Refresh();
                TimeSpan before = process.TotalProcessorTime;
                for (int i = 0; i < 3; i++)
                {
                    v.Run();
                }

                process.Refresh();
                samples[v.Name].Add((process.TotalProcessorTime - before).TotalMilliseconds / 3);
            }
        }

        foreach (var v in variants)
        {
            var sorted = samples[v.Name].Order().ToList();
            Console.WriteLine($"{v.Name,-22} median CPU {sorted[sorted.Count / 2],7:F1} ms/op (p25 {sorted[sorted.Count / 4],6:F1}, p75 {sorted[3 * sorted.Count / 4],6:F1})");
        }
    }
}

/// <summary>The unescaper as it was before issue 14 (length pass, then decode pass), kept here as the comparison row.</summary>
internal static class TwoPassUnescaper
{
    public static byte[] Unescape(ReadOnlySpan<byte> source)
    {
        byte[] destination = new byte[UnescapedLength(source)];
        int written = 0;
        int i = 0;
        while (i < source.Length)
        {
            int backslash = source[i..].IndexOf((byte)'\\');
            if (backslash < 0)
            {
                source[i..].CopyTo(destination.AsSpan(written));
                written += source.Length - i;
                break;
            }

            source.Slice(i, backslash).CopyTo(destination.AsSpan(written));
            written += backslash;
            i += backslash;
            written += DecodeEscape(source, ref i, destination.AsSpan(written));
        }

        return destination;
    }

    private static int UnescapedLength(ReadOnlySpan<byte> source)
    {
        int length = 0;
        int i = 0;
        while (i < source.Length)
        {
            int backslash = source[i..].IndexOf((byte)'\\');
            if (backslash < 0)
            {
                return length + source.Length - i;
            }

            length += backslash;
            i += backslash;
            if (source[i + 1] != (byte)'u')
            {
                length++;
                i += 2;
                continue;
            }

            int codePoint = Hex4(source.Slice(i + 2, 4));
            i += 6;
            if (codePoint < 0x80)
            {
                length++;
            }
            else if (codePoint < 0x800)
            {
                length += 2;
            }
            else if (codePoint is >= 0xD800 and <= 0xDBFF && i + 6 <= source.Length && source[i] == (byte)'\\' && source[i + 1] == (byte)'u'
                && Hex4(source.Slice(i + 2, 4)) is >= 0xDC00 and <= 0xDFFF)
            {
                length += 4;
                i += 6;
            }
            else
            {
                // Other BMP characters, and lone surrogates (written as U+FFFD), take three bytes.
                length += 3;
            }
        }

        return length;
    }

    /// <summary>Decodes the escape at <paramref name="i"/> (a backslash) into <paramref name="into"/>; returns bytes written.</summary>
    private static int DecodeEscape(ReadOnlySpan<byte> source, ref int i, Span<byte> into)
    {
        byte kind = source[i + 1];
        if (kind != (byte)'u')
        {
            into[0] = kind switch
            {
                (byte)'n' => (byte)'\n',
                (byte)'r' => (byte)'\r',
                (byte)'t' => (byte)'\t',
                (byte)'b' => (byte)'\b',
                (byte)'f' => (byte)'\f',
                _ => kind, // \" \\ \/
            };
            i += 2;
            return 1;
        }

        int codePoint = Hex4(source.Slice(i + 2, 4));
        i += 6;
        if (codePoint < 0x80)
        {
            // The common case in page contents: \u003C, \u003E, \u0026, \u0027.
            into[0] = (byte)codePoint;
            return 1;
        }

        if (codePoint is >= 0xD800 and <= 0xDBFF && i + 6 <= source.Length && source[i] == (byte)'\\' && source[i + 1] == (byte)'u')
        {
            int low = Hex4(source.Slice(i + 2, 4));
            if (low is >= 0xDC00 and <= 0xDFFF)
            {
                codePoint = 0x10000 + ((codePoint - 0xD800) << 10) + (low - 0xDC00);
                i += 6;
            }
        }

        if (codePoint is >= 0xD800 and <= 0xDFFF)
        {
            // A lone surrogate has no UTF-8 form: U+FFFD, as the framework's own decoder does.
            codePoint = 0xFFFD;
        }

        return new System.Text.Rune(codePoint).EncodeToUtf8(into);
    }

    private static int Hex4(ReadOnlySpan<byte> hex)
    {
        int value = 0;
        foreach (byte b in hex)
        {
            value = (value << 4) | (b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        }

        return value;
    }
}
