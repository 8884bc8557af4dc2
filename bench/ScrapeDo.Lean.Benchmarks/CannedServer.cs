using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ScrapeDo.Lean.Benchmarks;

/// <summary>
/// A minimal Kestrel on 127.0.0.1:0 answering with pre-encoded bodies, so per-call benchmarks measure the client,
/// not the server. Job and task ids select the canned shape.
/// </summary>
public sealed class CannedServer : IAsyncDisposable
{
    public const string Token = "bench-token";
    public const string SmallJob = "00000000-0000-0000-0000-000000000002";
    public const string BigJob = "00000000-0000-0000-0000-000000001000";

    /// <summary>A 1,000-task job whose polls alternate between two bodies that differ in <see cref="ChangedPerPoll"/> tasks.</summary>
    public const string ChangingJob = "00000000-0000-0000-0000-000000002000";
    public const int ChangedPerPoll = 10;
    public const string HtmlTask = "10k-html";
    public const string Base64Task = "1m-base64";
    public const string LargeTask = "10m-base64";

    private readonly WebApplication _app;
    private readonly Dictionary<string, byte[]> _bodies;
    private readonly byte[][] _changing = [JobBody(1000, 0, ChangingJob), JobBody(1000, ChangedPerPoll, ChangingJob)];
    private int _changingPolls;

    private CannedServer(WebApplication app, Dictionary<string, byte[]> bodies)
    {
        _app = app;
        _bodies = bodies;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The in-memory certificate served over HTTPS (HTTP/1.1 and HTTP/2 by ALPN); null for plain HTTP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; private set; }

    /// <summary>A job body: every third task finished, and the first <paramref name="changed"/> of the others too.</summary>
    public static byte[] JobBody(int tasks, int changed = 0, string? jobId = null) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("JobID", jobId ?? (tasks == 2 ? SmallJob : BigJob));
        w.WriteStartArray("TaskIDs");
        for (int i = 0; i < tasks; i++)
        {
            w.WriteStringValue(TaskId(i));
        }

        w.WriteEndArray();
        w.WriteString("Status", "pending");
        w.WriteString("StartTime", "2026-11-28T10:00:00Z");
        w.WriteNumber("AcquiredConcurrency", 5);
        w.WriteNumber("LimitConcurrency", 0);
        w.WriteBoolean("Canceled", false);
        w.WriteStartArray("Tasks");
        for (int i = 0; i < tasks; i++)
        {
            w.WriteStartObject();
            w.WriteString("TaskID", TaskId(i));
            w.WriteString("URL", $"https://site.example/products/{i}");
            w.WriteString("Status", i % 3 == 0 || (i % 3 == 1 && i / 3 < changed) ? "success" : "pending");
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] TaskBody(int contentBytes, bool base64) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("TaskID", TaskId(1));
        w.WriteString("JobID", SmallJob);
        w.WriteString("URL", "https://site.example/products/1");
        w.WriteString("Status", "success");
        w.WriteString("StartTime", "2026-11-28T10:00:00Z");
        w.WriteString("EndTime", "2026-11-28T10:00:02Z");
        w.WriteString("ExpiresAt", "2026-12-01T10:00:00Z");
        w.WriteString("UpdateTime", "2026-11-28T10:00:02Z");
        w.WriteBoolean("Base64EncodedContent", base64);
        w.WriteNumber("StatusCode", 200);
        w.WriteStartObject("ResponseHeaders");
        w.WriteString("Content-Type", base64 ? "application/octet-stream" : "text/html");
        w.WriteEndObject();
        w.WriteStartObject("Scrape.do");
        w.WriteString("Scrape.do-Request-Cost", "1");
        w.WriteEndObject();
        if (base64)
        {
            // contentBytes is the size of the base64 text, as "1 MB base64 content" reads.
            byte[] raw = new byte[contentBytes / 4 * 3];
            new Random(1).NextBytes(raw);
            w.WriteBase64String("Content", raw);
        }
        else
        {
            var sb = new StringBuilder("<!doctype html><html><body>");
            while (sb.Length < contentBytes - 20)
            {
                sb.Append("<p>lorem ipsum dolor sit amet</p>");
            }

            w.WriteString("Content", sb.Append("</body></html>").ToString());
        }

        w.WriteString("TraceID", "trace-1");
        w.WriteEndObject();
    });

    public static byte[] CreateBody(int tasks) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("JobID", SmallJob);
        w.WriteString("Message", "Job created successfully");
        w.WriteStartArray("TaskIDs");
        for (int i = 0; i < tasks; i++)
        {
            w.WriteStringValue(TaskId(i));
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static string TaskId(int i) => $"00000000-0000-0000-0001-{i:D12}";

    public static async Task<CannedServer> StartAsync(bool https = false)
    {
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = https ? Emulator.Internal.EphemeralCertificate.Create() : null;
        var bodies = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["/api/v1/jobs/" + SmallJob] = JobBody(2),
            ["/api/v1/jobs/" + BigJob] = JobBody(1000),
            ["/api/v1/jobs/" + SmallJob + "/" + HtmlTask] = TaskBody(10 * 1024, base64: false),
            ["/api/v1/jobs/" + SmallJob + "/" + Base64Task] = TaskBody(1024 * 1024, base64: true),
            ["/api/v1/jobs/" + SmallJob + "/" + LargeTask] = TaskBody(10 * 1024 * 1024, base64: true),
            ["create-1"] = CreateBody(1),
            ["create-1000"] = CreateBody(1000),
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (certificate is not null)
                {
                    listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }
            });
        });
        WebApplication app = builder.Build();
        var server = new CannedServer(app, bodies);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address + "/");
        server.Certificate = certificate;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        byte[]? body;
        if (HttpMethods.IsPost(context.Request.Method))
        {
            // Read and discard the request body, as a real server must.
            long read = 0;
            byte[] scratch = new byte[16 * 1024];
            int n;
            while ((n = await context.Request.Body.ReadAsync(scratch)) > 0)
            {
                read += n;
            }

            body = _bodies[read > 4096 ? "create-1000" : "create-1"];
        }
        else if (context.Request.Path.Value == "/api/v1/jobs/" + ChangingJob)
        {
            body = _changing[Interlocked.Increment(ref _changingPolls) & 1];
        }
        else if (!_bodies.TryGetValue(context.Request.Path.Value ?? "", out body))
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}
