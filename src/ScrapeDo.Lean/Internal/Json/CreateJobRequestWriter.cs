using System.Text.Json;

namespace ScrapeDo.Lean.Internal.Json;

/// <summary>
/// Writes the <c>POST /api/v1/jobs</c> body by hand, byte for byte what <c>ScrapeDoJsonContext.Default.CreateJobRequest</c>
/// writes (declaration order, null members omitted, the same converters for string values, browser actions and
/// plugins). The source-generated metadata for <see cref="CreateJobRequest"/> and <see cref="RenderOptions"/> costs a
/// native AOT app about 60 KB (a property-info and a converter instantiation per nullable value type, issue 14 target 8);
/// the client only ever writes this type, so it keeps no metadata for it. Tests compare both writers.
/// </summary>
internal static class CreateJobRequestWriter
{
    private static readonly BrowserActionJsonConverter BrowserActions = new();

    public static void Write(Utf8JsonWriter writer, CreateJobRequest request)
    {
        writer.WriteStartObject();
        if (request.Targets is { } targets)
        {
            writer.WriteStartArray("Targets"u8);
            for (int i = 0; i < targets.Count; i++)
            {
                WriteStringOrNull(writer, targets[i]);
            }

            writer.WriteEndArray();
        }

        WriteValue(writer, "Method"u8, request.Method?.Value, request.Method.HasValue);
        WriteString(writer, "Body"u8, request.Body);
        WriteString(writer, "GeoCode"u8, request.GeoCode);
        WriteString(writer, "RegionalGeoCode"u8, request.RegionalGeoCode);
        WriteBool(writer, "Super"u8, request.Super);
        WriteDictionary(writer, "Headers"u8, request.Headers);
        WriteBool(writer, "ForwardHeaders"u8, request.ForwardHeaders);
        WriteString(writer, "SessionID"u8, request.SessionId);
        WriteValue(writer, "Device"u8, request.Device?.Value, request.Device.HasValue);
        WriteString(writer, "SetCookies"u8, request.SetCookies);
        WriteInt(writer, "Timeout"u8, request.Timeout);
        WriteInt(writer, "RetryTimeout"u8, request.RetryTimeout);
        WriteBool(writer, "DisableRetry"u8, request.DisableRetry);
        WriteBool(writer, "TransparentResponse"u8, request.TransparentResponse);
        WriteBool(writer, "DisableRedirection"u8, request.DisableRedirection);
        WriteValue(writer, "Output"u8, request.Output?.Value, request.Output.HasValue);
        if (request.Render is { } render)
        {
            writer.WritePropertyName("Render"u8);
            WriteRender(writer, render);
        }

        WriteString(writer, "WebhookURL"u8, request.WebhookUrl);
        WriteDictionary(writer, "WebhookHeaders"u8, request.WebhookHeaders);
        if (request.Plugin is { } plugin)
        {
            writer.WritePropertyName("Plugin"u8);
            new PluginRequestJsonConverter().Write(writer, plugin, ScrapeDoJsonContext.Default.Options);
        }

        writer.WriteEndObject();
    }

    private static void WriteRender(Utf8JsonWriter writer, RenderOptions render)
    {
        writer.WriteStartObject();
        WriteBool(writer, "BlockResources"u8, render.BlockResources);
        WriteValue(writer, "WaitUntil"u8, render.WaitUntil?.Value, render.WaitUntil.HasValue);
        WriteInt(writer, "CustomWait"u8, render.CustomWait);
        WriteString(writer, "WaitSelector"u8, render.WaitSelector);
        if (render.PlayWithBrowser is { } actions)
        {
            writer.WriteStartArray("PlayWithBrowser"u8);
            for (int i = 0; i < actions.Count; i++)
            {
                if (actions[i] is { } action)
                {
                    BrowserActions.Write(writer, action, ScrapeDoJsonContext.Default.Options);
                }
                else
                {
                    writer.WriteNullValue();
                }
            }

            writer.WriteEndArray();
        }

        WriteBool(writer, "ReturnJSON"u8, render.ReturnJson);
        WriteBool(writer, "ShowWebsocketRequests"u8, render.ShowWebsocketRequests);
        WriteBool(writer, "ShowFrames"u8, render.ShowFrames);
        WriteBool(writer, "Screenshot"u8, render.Screenshot);
        WriteBool(writer, "FullScreenshot"u8, render.FullScreenshot);
        WriteString(writer, "ParticularScreenshot"u8, render.ParticularScreenshot);
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    private static void WriteString(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    // A string value type (IStringValue): its converter writes Value, or "" for default.
    private static void WriteValue(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value, bool hasValue)
    {
        if (hasValue)
        {
            writer.WriteString(name, value ?? string.Empty);
        }
    }

    private static void WriteBool(Utf8JsonWriter writer, ReadOnlySpan<byte> name, bool? value)
    {
        if (value is bool b)
        {
            writer.WriteBoolean(name, b);
        }
    }

    private static void WriteInt(Utf8JsonWriter writer, ReadOnlySpan<byte> name, int? value)
    {
        if (value is int n)
        {
            writer.WriteNumber(name, n);
        }
    }

    private static void WriteDictionary(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyDictionary<string, string>? values)
    {
        if (values is null)
        {
            return;
        }

        writer.WriteStartObject(name);
        foreach (KeyValuePair<string, string> pair in values)
        {
            writer.WritePropertyName(pair.Key);
            WriteStringOrNull(writer, pair.Value);
        }

        writer.WriteEndObject();
    }
}
