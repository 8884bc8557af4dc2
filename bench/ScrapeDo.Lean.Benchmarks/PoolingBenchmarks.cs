using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>Does pooling the request-body writer (buffer + Utf8JsonWriter, Microsoft.Extensions.ObjectPool) pay?</summary>
[MemoryDiagnoser]
public class PoolingBenchmarks
{
    private CreateJobRequest _request = null!;

    [Params(1, 1000)]
    public int Targets { get; set; }

    [GlobalSetup]
    public void Setup() => _request = new CreateJobRequest { Targets = Enumerable.Range(0, Targets).Select(i => $"https://site.example/products/{i}").ToArray() };

    [Benchmark(Baseline = true)]
    public int Pooled_BodyWriter()
    {
        JsonBodyWriter writer = JsonBodyWriter.Rent();
        writer.Write(_request, ScrapeDoJsonContext.Default.CreateJobRequest);
        int length = writer.WrittenMemory.Length;
        JsonBodyWriter.Return(writer);
        return length;
    }

    [Benchmark]
    public int Fresh_PooledBuffer_And_Writer()
    {
        using var buffer = new PooledBufferWriter();
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, _request, ScrapeDoJsonContext.Default.CreateJobRequest);
        writer.Flush();
        return buffer.WrittenCount;
    }

    [Benchmark]
    public int SerializeToUtf8Bytes() => JsonSerializer.SerializeToUtf8Bytes(_request, ScrapeDoJsonContext.Default.CreateJobRequest).Length;
}
