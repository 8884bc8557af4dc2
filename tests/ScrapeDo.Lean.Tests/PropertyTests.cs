using System.Text;
using System.Text.Json;
using CsCheck;
using ScrapeDo.Lean.Internal.Json;

namespace ScrapeDo.Lean.Tests;

public class PropertyTests
{
    [Fact]
    public void Any_content_round_trips_through_json_and_base64_copy()
    {
        Gen.Byte.Array[0, 5000].Sample(bytes =>
        {
            string b64 = Convert.ToBase64String(bytes);
            var task = JsonSerializer.Deserialize($$"""{"TaskID":"t","JobID":"j","Base64EncodedContent":true,"Content":"{{b64}}"}""", ScrapeDoJsonContext.Default.TaskDetails)!;
            using var ms = new MemoryStream();
            task.CopyContentToAsync(ms).AsTask().GetAwaiter().GetResult();
            return ms.ToArray().AsSpan().SequenceEqual(bytes) && task.GetContentBytes().AsSpan().SequenceEqual(bytes);
        }, iter: 300);
    }

    [Fact]
    public void Any_text_content_survives_json_escaping()
    {
        Gen.String[0, 300].Sample(text =>
        {
            string json = "{\"TaskID\":\"t\",\"JobID\":\"j\",\"Content\":" + JsonSerializer.Serialize(text, ScrapeDoTestJsonContext.Default.String) + "}";
            var task = JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.TaskDetails)!;
            // Lone surrogates cannot survive UTF-8; compare through the same encoder the wire uses.
            return task.GetContentText() == Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
        }, iter: 500);
    }

    [Fact]
    public void Arbitrary_bytes_fail_only_with_JsonException()
    {
        var seeds = new[]
        {
            """{"JobID":"j","TaskIDs":["a"],"Status":"queued","Tasks":[{"TaskID":"a","URL":"u","Status":"pending"}],"EndTime":"2019-08-24T14:15:22Z"}""",
            """{"TaskID":"t","JobID":"j","Content":"abc","ResponseHeaders":{"a":"b"},"Scrape.do":{"x":"y"},"StatusCode":200}""",
        }.Select(Encoding.UTF8.GetBytes).ToArray();

        Gen.Select(Gen.Int[0, 1], Gen.Int[0, 200], Gen.Byte, Gen.Int[0, 3]).Sample((which, pos, value, mode) =>
        {
            byte[] bytes = (byte[])seeds[which].Clone();
            int p = pos % bytes.Length;
            bytes = mode switch
            {
                0 => bytes[..p],
                1 => [.. bytes[..p], value, .. bytes[p..]],
                _ => Mutate(bytes, p, value),
            };
            try
            {
                JsonSerializer.Deserialize(bytes, ScrapeDoJsonContext.Default.JobDetails);
                JsonSerializer.Deserialize(bytes, ScrapeDoJsonContext.Default.TaskDetails);
            }
            catch (JsonException)
            {
            }
        }, iter: 3000);
    }

    [Fact]
    public void Open_string_sets_keep_any_value()
    {
        Gen.String[1, 40].Sample(s =>
        {
            var json = $$"""{"JobID":"j","Status":{{JsonSerializer.Serialize(s, ScrapeDoTestJsonContext.Default.String)}}}""";
            var job = JsonSerializer.Deserialize(json, ScrapeDoJsonContext.Default.JobDetails)!;
            return job.Status.Value == Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
        }, iter: 300);
    }

    private static byte[] Mutate(byte[] bytes, int p, byte value)
    {
        bytes[p] = value;
        return bytes;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ScrapeDoTestJsonContext : System.Text.Json.Serialization.JsonSerializerContext
{
}

public class UnescaperTests
{
    [Fact]
    public void Unescaping_matches_the_framework_decoder_for_any_string()
    {
        Gen.String[0, 200].Sample(text =>
        {
            // Default escaping turns <, >, &, quotes, non-ASCII and controls into \uXXXX (with surrogate pairs).
            string json = JsonSerializer.Serialize(text, ScrapeDoTestJsonContext.Default.String);
            string viaReader = JsonSerializer.Deserialize(json, ScrapeDoTestJsonContext.Default.String)!;
            byte[] ours = ScrapeDo.Lean.Internal.Json.JsonUnescaper.Unescape(Encoding.UTF8.GetBytes(json)[1..^1]);
            return ours.AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(viaReader));
        }, iter: 2000);
    }

    [Theory]
    [InlineData("\\u003Cp\\u003E", "<p>")]
    [InlineData("a\\n\\t\\\"\\\\\\/b", "a\n\t\"\\/b")]
    [InlineData("\\uD83D\\uDE00", "\U0001F600")]
    [InlineData("\\uD83D", "\uFFFD")]
    [InlineData("caf\\u00e9", "café")]
    public void Known_escapes_decode(string escaped, string expected)
    {
        Assert.Equal(Encoding.UTF8.GetBytes(expected), ScrapeDo.Lean.Internal.Json.JsonUnescaper.Unescape(Encoding.UTF8.GetBytes(escaped)));
    }
}
