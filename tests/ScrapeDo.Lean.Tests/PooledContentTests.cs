using System.Buffers;
using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Internal.Json;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

/// <summary>The pooled task reader behind <see cref="RunOptions.LeaseContent"/> reads what the ordinary one reads.</summary>
public class PooledContentTests
{
    public static TheoryData<string> Contents() => new()
    {
        "plain ascii content",
        "<p>caf\\u00e9 \\\"q\\\"<\\/p>\\n",
        "\\u003Chtml\\u003E escaped tags \\u003C/html\\u003E",
        "lone \\uD800 surrogate",
        "utf-8 café ✓ 𝄞",
        "",
    };

    [Theory]
    [MemberData(nameof(Contents))]
    public void Pooled_read_gives_the_same_bytes_as_the_ordinary_read(string content)
    {
        string json = $$"""{"TaskID":"t","JobID":"j","URL":"https://a.example/","Status":"success","Base64EncodedContent":false,"StatusCode":200,"ResponseHeaders":{"content-type":"text/html"},"Content":"{{content}}","TraceID":"x"}""";
        byte[] utf8 = Encoding.UTF8.GetBytes(json);
        TaskDetails plain = JsonSerializer.Deserialize(utf8, ScrapeDoJsonContext.Default.TaskDetails)!;
        TaskDetails pooled = JsonSerializer.Deserialize(utf8, PooledTaskContent.TypeInfo)!;

        Assert.Equal(plain.TaskId, pooled.TaskId);
        Assert.Equal(plain.Url, pooled.Url);
        Assert.Equal(plain.ResponseHeaders, pooled.ResponseHeaders);
        Assert.Equal(plain.Content.Utf8.ToArray(), pooled.Content.Utf8.ToArray());

        using TaskContentLease? lease = PooledTaskContent.Detach(pooled);
        Assert.True(pooled.Content.IsEmpty);
        Assert.Equal(plain.Content.Utf8.ToArray(), lease?.Span.ToArray() ?? []);
    }

    [Fact]
    public async Task Pooled_read_of_a_streamed_body_matches_too()
    {
        string page = string.Concat(Enumerable.Repeat("<div class=\"x\">café</div>\n", 4000));
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("TaskID", "t");
            writer.WriteString("JobID", "j");
            writer.WriteString("Status", "success");
            writer.WriteString("Content", page);
            writer.WriteEndObject();
        }

        string json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        TaskDetails plain = JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.TaskDetails)!;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        TaskDetails pooled = (await JsonSerializer.DeserializeAsync(stream, PooledTaskContent.TypeInfo))!;
        using TaskContentLease lease = PooledTaskContent.Detach(pooled)!;
        Assert.Equal(plain.Content.Utf8.ToArray(), lease.Span.ToArray());
        Assert.Equal(page, Encoding.UTF8.GetString(lease.Span));
    }

    [Fact]
    public void Null_content_and_a_non_string_content_read_as_before()
    {
        TaskDetails pooled = JsonSerializer.Deserialize("""{"TaskID":"t","JobID":"j","Status":"success","Content":null}""", PooledTaskContent.TypeInfo)!;
        Assert.True(pooled.Content.IsEmpty);
        Assert.Null(PooledTaskContent.Detach(pooled));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"TaskID":"t","JobID":"j","Content":5}""", PooledTaskContent.TypeInfo));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"TaskID":"t","JobID":"j","Content":5}""", ScrapeDoJsonContext.Default.TaskDetails));
    }

    [Fact]
    public void The_ordinary_reader_is_untouched_by_the_pooled_one()
    {
        _ = PooledTaskContent.TypeInfo;
        TaskDetails plain = JsonSerializer.Deserialize("""{"TaskID":"t","JobID":"j","Content":"abc"}""", ScrapeDoJsonContext.Default.TaskDetails)!;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(plain.Content.Utf8, out ArraySegment<byte> segment));
        Assert.Equal(3, segment.Array!.Length);
    }

    [Fact]
    public void A_lease_is_returned_once_and_unreadable_after_dispose()
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(16);
        "hello"u8.CopyTo(rented);
        var lease = new TaskContentLease(rented, 5);
        Assert.Equal("hello"u8.ToArray(), lease.Memory.ToArray());
        Assert.Equal("hello"u8.ToArray(), lease.ToArray());
        Assert.Equal(5, lease.Length);
        lease.Dispose();
        lease.Dispose();
        Assert.True(lease.IsDisposed);
        Assert.Equal(5, lease.Length);
        Assert.Throws<ObjectDisposedException>(() => lease.Memory);
        Assert.Throws<ObjectDisposedException>(() => lease.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => lease.ToArray());
    }
}
