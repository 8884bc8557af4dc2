using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using ScrapeDo.Lean.Internal;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// Issue 14 target 1, Create1000 row, client side only: ScrapeDo.Lean's validation + body writing for a 1,000-URL create
/// against an STJ source-generated serialize of the same body (no HTTP). <c>--filter '*CreateBody*' --inProcess</c>.
/// </summary>
[MemoryDiagnoser]
public class CreateBodyBenchmarks
{
    private readonly ArrayBufferWriter<byte> _stjBuffer = new(64 * 1024);
    private Utf8JsonWriter _stjWriter = null!;
    private CreateJobRequest _request = null!;
    private StjCreateBody _stjBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        string[] targets = Enumerable.Range(0, 1000).Select(i => $"https://site.example/products/{i}").ToArray();
        _request = new CreateJobRequest { Targets = targets };
        _stjBody = new StjCreateBody { Targets = [.. targets] };
        _stjWriter = new Utf8JsonWriter(_stjBuffer);
    }

    [Benchmark(Baseline = true)]
    public int Stj_SourceGen_Create1000()
    {
        _stjBuffer.ResetWrittenCount();
        _stjWriter.Reset(_stjBuffer);
        JsonSerializer.Serialize(_stjWriter, _stjBody, CreateBodyStjContext.Default.StjCreateBody);
        _stjWriter.Flush();
        return _stjBuffer.WrittenCount;
    }

    /// <summary>What <c>CreateJobAsync</c> does before sending: validate, then write the body.</summary>
    [Benchmark]
    public int Lean_Create1000()
    {
        RequestValidator.Validate(_request);
        JsonBodyWriter writer = JsonBodyWriter.Rent();
        writer.Write(_request);
        int length = writer.WrittenMemory.Length;
        JsonBodyWriter.Return(writer);
        return length;
    }

    /// <summary>The same with the source-generated CreateJobRequest metadata (the writer the client used before).</summary>
    [Benchmark]
    public int Lean_Create1000_SourceGenWriter()
    {
        RequestValidator.Validate(_request);
        JsonBodyWriter writer = JsonBodyWriter.Rent();
        writer.Write(_request, ScrapeDoJsonContext.Default.CreateJobRequest);
        int length = writer.WrittenMemory.Length;
        JsonBodyWriter.Return(writer);
        return length;
    }

    [Benchmark]
    public void Lean_Validate1000() => RequestValidator.Validate(_request);
}

public sealed class StjCreateBody
{
    public List<string>? Targets { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StjCreateBody))]
internal sealed partial class CreateBodyStjContext : JsonSerializerContext
{
}
