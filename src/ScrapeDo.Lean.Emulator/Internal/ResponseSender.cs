using Microsoft.AspNetCore.Http;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Writes an answer: a JSON body from a pooled <see cref="ResponseWriter"/>, with the transport faults (a dropped
/// connection, a body cut off halfway) applied at the moment they would happen on a real network.
/// </summary>
internal sealed class ResponseSender(EmulatorCounters counters, bool nullZeroValues = false)
{
    private static readonly byte[] HtmlPage = "<html><body><h1>Service temporarily unavailable</h1></body></html>"u8.ToArray();

    public Task BadRequestAsync(HttpContext context, string message, Fault fault)
    {
        Interlocked.Increment(ref counters.BadRequests);
        return ErrorAsync(context, 400, message, fault);
    }

    public Task ErrorAsync(HttpContext context, int status, string message, Fault fault) =>
        WriteAsync(context, status, w => w.Error(message, status), fault);

    public async Task WriteAsync(HttpContext context, int status, Action<ResponseWriter> write, Fault fault)
    {
        ResponseWriter writer = ResponseWriter.Rent(nullZeroValues);
        try
        {
            write(writer);
            writer.Flush();
            await SendAsync(context, status, writer.Written, fault).ConfigureAwait(false);
        }
        finally
        {
            ResponseWriter.Return(writer);
        }
    }

    public async Task SendAsync(HttpContext context, int status, ReadOnlyMemory<byte> body, Fault fault)
    {
        if (fault == Fault.Drop)
        {
            Interlocked.Increment(ref counters.InjectedDrops);
            context.Abort();
            return;
        }

        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (fault == Fault.Truncate)
        {
            Interlocked.Increment(ref counters.InjectedTruncations);
            await response.Body.WriteAsync(body[..(body.Length / 2)], context.RequestAborted).ConfigureAwait(false);
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            context.Abort();
            return;
        }

        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A 200 whose body is an HTML page, as a proxy or a misrouted load balancer sends it.</summary>
    public Task NonJsonAsync(HttpContext context)
    {
        Interlocked.Increment(ref counters.InjectedNonJsons);
        HttpResponse response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = HtmlPage.Length;
        return response.Body.WriteAsync(HtmlPage, context.RequestAborted).AsTask();
    }
}
