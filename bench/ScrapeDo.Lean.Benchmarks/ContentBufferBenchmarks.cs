using System.Buffers;
using BenchmarkDotNet.Attributes;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// What handing one content to a consumer costs, by size, apart from reading it: a fresh exact-size array (what a
/// <see cref="TaskContent"/> holds, the runner's default), a buffer from <see cref="ArrayPool{T}.Shared"/> given back
/// after use (a <see cref="TaskContentLease"/>), and the copy alone into a buffer that already exists (the floor).
/// From 85,000 bytes a fresh array is a large-object-heap allocation: the GC budgets those separately and collects
/// them with generation 2, so their cost grows with the machine's page-fault price, not with the copy.
/// The lease row is a best case: it rents and returns on one thread, so the pool's per-thread slot always serves it,
/// where a run rents on a fetch worker and the consumer returns on its own thread (through the pool's per-core stacks).
/// </summary>
[MemoryDiagnoser]
public class ContentBufferBenchmarks
{
    private byte[] _content = null!;
    private byte[] _existing = null!;

    /// <summary>Content size in bytes: a small page, one past the large-object threshold, a large page.</summary>
    [Params(2_048, 100_000, 1_000_000)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _content = new byte[Size];
        new Random(14).NextBytes(_content);
        _existing = new byte[Size];
    }

    [Benchmark(Baseline = true)]
    public int Copy_Only()
    {
        _content.AsSpan().CopyTo(_existing);
        return _existing[^1];
    }

    [Benchmark]
    public int Fresh_Array()
    {
        byte[] fresh = _content.AsSpan().ToArray();
        return fresh[^1];
    }

    [Benchmark]
    public int Pooled_Lease()
    {
        // As the runner hands it out: the lease object (and its counters) around a rented buffer.
        byte[] rented = ArrayPool<byte>.Shared.Rent(Size);
        _content.AsSpan().CopyTo(rented);
        using var lease = new TaskContentLease(rented, Size);
        return lease.Span[^1];
    }
}
