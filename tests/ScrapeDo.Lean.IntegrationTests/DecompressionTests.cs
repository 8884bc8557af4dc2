using System.IO.Compression;
using System.Net;
using System.Text;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// The client decodes compressed answers itself on its built-in handler (ResponseDecoding), with the behaviour that
/// SocketsHttpHandler.AutomaticDecompression = All had: same Accept-Encoding, same codecs, the last encoding decides.
/// </summary>
public class DecompressionTests
{
    private const string JobBody = """{"JobID":"j1","TaskIDs":["t1"],"Status":"success","Tasks":[{"TaskID":"t1","URL":"https://a.example/","Status":"success"}]}""";

    private static ScrapeDoClient Client(ScriptedServer server, HttpMessageHandler? handler = null) => new(new ScrapeDoClientOptions
    {
        Token = "decompression-test-token",
        BaseAddress = server.BaseAddress,
        HttpMessageHandler = handler,
        Retry = new ScrapeDoRetryOptions { MaxAttempts = 1 },
    });

    public static TheoryData<string> Encodings => new() { "gzip", "deflate", "raw-deflate", "br", "GZIP", "identity, gzip" };

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task Compressed_answers_are_decoded_and_compression_is_asked_for(string encoding)
    {
        byte[] body = Compress(encoding, Encoding.UTF8.GetBytes(JobBody));
        string header = encoding == "raw-deflate" ? "deflate" : encoding;
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body, extraHeaders: $"Content-Encoding: {header}\r\n"));
        using var client = Client(server);

        JobDetails job = await client.GetJobAsync("j1", Support.Timeout());

        Assert.Equal("j1", job.JobId);
        Assert.Equal("https://a.example/", job.Tasks[0].Url);
        Assert.Contains("Accept-Encoding: gzip, deflate, br\r\n", Assert.Single(server.Heads), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("raw-deflate")]
    [InlineData("br")]
    public async Task Large_compressed_answers_decode_completely(string encoding)
    {
        // About 400 KB decoded: many reads, refills and full output buffers in every decoder.
        var json = new StringBuilder("""{"JobID":"j1","Status":"pending","Tasks":[""");
        for (int i = 0; i < 4000; i++)
        {
            json.Append(i == 0 ? "" : ",").Append($$"""{"TaskID":"t{{i}}","URL":"https://site.example/products/{{i * 7919 % 100003}}","Status":"pending"}""");
        }

        byte[] body = Compress(encoding, Encoding.UTF8.GetBytes(json.Append("]}").ToString()));
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body, extraHeaders: $"Content-Encoding: {(encoding == "raw-deflate" ? "deflate" : encoding)}\r\n"));
        using var client = Client(server);

        JobDetails job = await client.GetJobAsync("j1", Support.Timeout());

        Assert.Equal(4000, job.Tasks.Count);
        Assert.Equal($"https://site.example/products/{3999 * 7919 % 100003}", job.Tasks[3999].Url);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task A_corrupt_compressed_answer_is_a_malformed_response(string encoding)
    {
        byte[] body = Compress(encoding, Encoding.UTF8.GetBytes(JobBody));
        body = body[..(body.Length / 2)];
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body, extraHeaders: $"Content-Encoding: {encoding}\r\n"));
        using var client = Client(server);

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", Support.Timeout()));

        Assert.True(ex.IsMalformedResponse);
    }

    [Fact]
    public async Task A_compressed_error_body_is_decoded_for_the_exception()
    {
        byte[] body = Compress("gzip", Encoding.UTF8.GetBytes("""{"Error":"job not found","Code":404}"""));
        await using var server = ScriptedServer.Always(ScriptedServer.Http("404 Not Found", body, extraHeaders: "Content-Encoding: gzip\r\n"));
        using var client = Client(server);

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", Support.Timeout()));

        Assert.True(ex.IsNotFound);
        Assert.Equal("job not found", ex.ErrorText);
    }

    [Fact]
    public async Task An_unknown_encoding_is_left_alone()
    {
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", JobBody, extraHeaders: "Content-Encoding: identity\r\n"));
        using var client = Client(server);
        Assert.Equal("j1", (await client.GetJobAsync("j1", Support.Timeout())).JobId);
    }

    [Fact]
    public async Task An_injected_handler_is_used_as_given()
    {
        // As before: the caller's handler decides about compression; the client neither asks for it nor decodes.
        byte[] body = Compress("gzip", Encoding.UTF8.GetBytes(JobBody));
        await using var server = ScriptedServer.Always(ScriptedServer.Http("200 OK", body, extraHeaders: "Content-Encoding: gzip\r\n"));
        using var client = Client(server, new SocketsHttpHandler());

        var ex = await Assert.ThrowsAsync<ScrapeDoApiException>(() => client.GetJobAsync("j1", Support.Timeout()));

        Assert.True(ex.IsMalformedResponse);
        Assert.Equal(HttpStatusCode.OK, ex.StatusCode);
        Assert.DoesNotContain("Accept-Encoding", Assert.Single(server.Heads), StringComparison.OrdinalIgnoreCase);
    }

    private static byte[] Compress(string encoding, byte[] data)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding.ToLowerInvariant() switch
        {
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "raw-deflate" => new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
        })
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }
}
