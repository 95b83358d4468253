using System.Text.Json;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace VirtApi.Persistence;

/// <summary>
/// The one spelling of enum values everywhere: kebab-case (<c>BareMetal</c> is <c>bare-metal</c>),
/// as DESIGN.md's API contract asks, in JSON and in the database alike.
/// </summary>
public static class EnumNames
{
    /// <summary>The kebab-case name of <paramref name="value"/>.</summary>
    public static string ToName<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>Parses a kebab-case name; false when it names no value.</summary>
    public static bool TryParse<T>(string? name, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(ToName(candidate), name, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Every kebab-case name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>()
        where T : struct, Enum => Enum.GetValues<T>().Select(ToName).ToArray();

    internal static ValueConverter<T, string> Converter<T>()
        where T : struct, Enum =>
        new(v => ToName(v), s => Parse<T>(s));

    private static T Parse<T>(string name)
        where T : struct, Enum =>
        TryParse<T>(name, out var value) ? value : throw new InvalidOperationException($"'{name}' is not a {typeof(T).Name} value");
}
