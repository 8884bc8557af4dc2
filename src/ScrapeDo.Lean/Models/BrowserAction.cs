using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScrapeDo.Lean;

/// <summary>
/// One step of a <c>PlayWithBrowser</c> script. Build it with the factory methods, which carry each action's
/// required fields; <see cref="Custom"/> covers actions this client does not know yet.
/// </summary>
[JsonConverter(typeof(BrowserActionJsonConverter))]
public sealed class BrowserAction
{
    private BrowserAction(string action) => Action = action;

    /// <summary>The <c>Action</c> discriminator (<c>Click</c>, <c>Wait</c> …).</summary>
    public string Action { get; }

    /// <summary>CSS selector the action works on.</summary>
    public string? Selector { get; private init; }

    /// <summary>Timeout or wait in milliseconds.</summary>
    public int? Timeout { get; private init; }

    /// <summary>Selector waited for by <c>WaitSelector</c>.</summary>
    public string? WaitSelector { get; private init; }

    /// <summary>Numeric value (scroll distance or position in pixels).</summary>
    public double? NumericValue { get; private init; }

    /// <summary>Text value (typed by <c>Fill</c>).</summary>
    public string? TextValue { get; private init; }

    /// <summary>JavaScript run by <c>Execute</c>.</summary>
    public string? Script { get; private init; }

    /// <summary>The <c>fullScreenShot</c> field of <c>ScreenShot</c> (casing as in the official client).</summary>
    public string? FullScreenShot { get; private init; }

    /// <summary>The <c>particularScreenShot</c> field of <c>ScreenShot</c>.</summary>
    public string? ParticularScreenShot { get; private init; }

    /// <summary>Clicks the element matching <paramref name="selector"/>.</summary>
    public static BrowserAction Click(string selector) => new("Click") { Selector = Required(selector, nameof(selector)) };

    /// <summary>Sleeps for <paramref name="milliseconds"/>.</summary>
    public static BrowserAction Wait(int milliseconds) => new("Wait") { Timeout = NotNegative(milliseconds, nameof(milliseconds)) };

    /// <summary>Waits until <paramref name="selector"/> appears, optionally at most <paramref name="timeoutMilliseconds"/>.</summary>
    public static BrowserAction WaitForSelector(string selector, int? timeoutMilliseconds = null) =>
        new("WaitSelector") { WaitSelector = Required(selector, nameof(selector)), Timeout = timeoutMilliseconds is int t ? NotNegative(t, nameof(timeoutMilliseconds)) : null };

    /// <summary>Scrolls horizontally by <paramref name="pixels"/>, inside <paramref name="selector"/> if given.</summary>
    public static BrowserAction ScrollX(double pixels, string? selector = null) => new("ScrollX") { NumericValue = pixels, Selector = selector };

    /// <summary>Scrolls vertically by <paramref name="pixels"/>, inside <paramref name="selector"/> if given.</summary>
    public static BrowserAction ScrollY(double pixels, string? selector = null) => new("ScrollY") { NumericValue = pixels, Selector = selector };

    /// <summary>Scrolls to the element matching <paramref name="selector"/>.</summary>
    public static BrowserAction ScrollTo(string selector) => new("ScrollTo") { Selector = Required(selector, nameof(selector)) };

    /// <summary>Scrolls to the vertical position <paramref name="pixels"/>.</summary>
    public static BrowserAction ScrollTo(double pixels) => new("ScrollTo") { NumericValue = pixels };

    /// <summary>Types <paramref name="text"/> into the input matching <paramref name="selector"/>.</summary>
    public static BrowserAction Fill(string selector, string text) =>
        new("Fill") { Selector = Required(selector, nameof(selector)), TextValue = text ?? throw new ArgumentNullException(nameof(text)) };

    /// <summary>Runs <paramref name="javaScript"/> in the page.</summary>
    public static BrowserAction Execute(string javaScript) => new("Execute") { Script = Required(javaScript, nameof(javaScript)) };

    /// <summary>Takes a screenshot mid-script: full page, or of the element matching <paramref name="particularSelector"/>.</summary>
    public static BrowserAction Screenshot(bool fullPage = false, string? particularSelector = null) =>
        new("ScreenShot") { FullScreenShot = fullPage ? "true" : null, ParticularScreenShot = particularSelector };

    /// <summary>An action this client does not model; only <c>Action</c> and the given fields are sent.</summary>
    public static BrowserAction Custom(string action, string? selector = null, int? timeout = null, string? textValue = null) =>
        new(Required(action, nameof(action))) { Selector = selector, Timeout = timeout, TextValue = textValue };

    internal static BrowserAction Read(string action, string? selector, int? timeout, string? waitSelector, double? number, string? text,
        string? script, string? full, string? particular) =>
        new(action) { Selector = selector, Timeout = timeout, WaitSelector = waitSelector, NumericValue = number, TextValue = text, Script = script, FullScreenShot = full, ParticularScreenShot = particular };

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Action}({Selector ?? WaitSelector ?? Script ?? TextValue ?? NumericValue?.ToString(CultureInfo.InvariantCulture) ?? Timeout?.ToString(CultureInfo.InvariantCulture)})");

    private static string Required(string value, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value, name);
        return value;
    }

    private static int NotNegative(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, name);
        return value;
    }
}

internal sealed class BrowserActionJsonConverter : JsonConverter<BrowserAction>
{
    public override BrowserAction Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A PlayWithBrowser action must be a JSON object.");
        }

        string? action = null, selector = null, waitSelector = null, text = null, script = null, full = null, particular = null;
        int? timeout = null;
        double? number = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "Action": action = reader.GetString(); break;
                case "Selector": selector = reader.GetString(); break;
                case "Timeout": timeout = reader.GetInt32(); break;
                case "WaitSelector": waitSelector = reader.GetString(); break;
                case "Value" when reader.TokenType == JsonTokenType.Number: number = reader.GetDouble(); break;
                case "Value": text = reader.GetString(); break;
                case "Execute": script = reader.GetString(); break;
                case "fullScreenShot": full = reader.GetString(); break;
                case "particularScreenShot": particular = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }

        return BrowserAction.Read(action ?? throw new JsonException("A PlayWithBrowser action needs an Action."), selector, timeout, waitSelector, number, text, script, full, particular);
    }

    public override void Write(Utf8JsonWriter writer, BrowserAction value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("Action"u8, value.Action);
        WriteIfSet(writer, "Selector"u8, value.Selector);
        if (value.Timeout is int timeout)
        {
            writer.WriteNumber("Timeout"u8, timeout);
        }

        WriteIfSet(writer, "WaitSelector"u8, value.WaitSelector);
        if (value.NumericValue is double number)
        {
            writer.WriteNumber("Value"u8, number);
        }

        WriteIfSet(writer, "Value"u8, value.TextValue);
        WriteIfSet(writer, "Execute"u8, value.Script);
        WriteIfSet(writer, "fullScreenShot"u8, value.FullScreenShot);
        WriteIfSet(writer, "particularScreenShot"u8, value.ParticularScreenShot);
        writer.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
