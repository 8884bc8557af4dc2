using ScrapeDo.Lean.Internal.Http;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Tests;

public class PoolingTests
{
    [Fact]
    public void Pooled_body_writer_resets_between_uses()
    {
        var first = JsonBodyWriter.Rent();
        first.Write(new CreateJobRequest { Targets = Enumerable.Range(0, 50).Select(i => $"https://a.example/{i}").ToArray() }, ScrapeDoJsonContext.Default.CreateJobRequest);
        int firstLength = first.WrittenMemory.Length;
        JsonBodyWriter.Return(first);

        var second = JsonBodyWriter.Rent();
        second.Write(new CreateJobRequest { Targets = ["https://b.example/"] }, ScrapeDoJsonContext.Default.CreateJobRequest);
        Assert.Equal("""{"Targets":["https://b.example/"]}""", System.Text.Encoding.UTF8.GetString(second.WrittenMemory.Span));
        Assert.True(firstLength > second.WrittenMemory.Length);
        JsonBodyWriter.Return(second);
    }

    [Fact]
    public void Buffer_writer_grows_and_keeps_content()
    {
        using var writer = new PooledBufferWriter(16);
        for (int i = 0; i < 10_000; i++)
        {
            var span = writer.GetSpan(1);
            span[0] = (byte)(i % 251);
            writer.Advance(1);
        }

        Assert.Equal(10_000, writer.WrittenCount);
        var bytes = writer.WrittenMemory.ToArray();
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.Equal((byte)(i % 251), bytes[i]);
        }

        Assert.Throws<InvalidOperationException>(() => writer.Advance(writer.Capacity));
    }

    [Fact]
    public void Pooled_buffer_writer_hands_its_array_over_and_owns_nothing_after()
    {
        var writer = new PooledBufferWriter(16);
        for (int i = 0; i < 100; i++)
        {
            writer.GetSpan(1)[0] = (byte)i;
            writer.Advance(1);
        }

        (byte[] buffer, int written) = writer.Detach();
        Assert.Equal(100, written);
        Assert.True(buffer.Length >= 100);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), buffer.Take(100));
        Assert.Equal(0, writer.WrittenCount);
        Assert.Equal(0, writer.Capacity);
        // Disposing after the hand-over must not return the caller's array a second time.
        writer.Dispose();
        Assert.Equal(0, writer.Capacity);
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }

    [Fact]
    public void Retry_budget_withdraws_to_half_and_refills_on_success()
    {
        var budget = new RetryBudget(10, 0.5);
        int granted = 0;
        while (budget.TryWithdraw())
        {
            granted++;
        }

        Assert.Equal(5, granted);
        budget.RecordSuccess();
        budget.RecordSuccess();
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
    }
}
