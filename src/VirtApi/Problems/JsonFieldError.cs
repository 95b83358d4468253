using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using VirtApi.Persistence;

namespace VirtApi.Problems;

/// <summary>
/// Names the field and the reason when System.Text.Json rejects a request body, so a 400 says
/// <c>hypervisorType: must be one of bare-metal, hosted</c> rather than a serializer message.
/// </summary>
internal static partial class JsonFieldError
{
    public static (string Field, string Reason) Describe(JsonException exception, Type? requestType)
    {
        var unmapped = UnmappedProperty().Match(exception.Message);
        if (unmapped.Success)
        {
            // The path already ends at the unknown property ($.devices[0].colour).
            var path = FieldName(exception.Path);
            return (path.Length == 0 ? unmapped.Groups[1].Value : path, "is not a known field");
        }

        var field = FieldName(exception.Path);
        if (field.Length == 0)
        {
            var reason = exception.Message.Split(" Path:")[0];
            return ("body", $"is not well-formed JSON: {reason}");
        }
        var target = requestType is null ? null : ResolveType(requestType, exception.Path);
        target = target is null ? null : Nullable.GetUnderlyingType(target) ?? target;
        if (target is { IsEnum: true })
        {
            var names = typeof(EnumNames).GetMethod(nameof(EnumNames.All))!.MakeGenericMethod(target).Invoke(null, null) as IReadOnlyList<string>;
            return (field, $"must be one of {string.Join(", ", names!)}");
        }
        if (target is not null)
        {
            return (field, $"is not a valid {Describe(target)}");
        }
        return (field, "is not valid here");
    }

    /// <summary><c>$.devices[0].kind</c> → <c>devices[0].kind</c>.</summary>
    private static string FieldName(string? path) =>
        string.IsNullOrEmpty(path) ? "" : path.TrimStart('$').TrimStart('.');

    /// <summary>Follows a JSON path's property names (camelCase) through the request type.</summary>
    private static Type? ResolveType(Type root, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }
        var current = root;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (segment.Groups["index"].Success)
            {
                current = ElementType(current);
            }
            else
            {
                var name = segment.Groups["name"].Value;
                var property = current?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                current = property?.PropertyType;
            }
            if (current is null)
            {
                return null;
            }
        }
        return current;
    }

    private static Type? ElementType(Type? type) =>
        type is null ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static string Describe(Type type) => Type.GetTypeCode(type) switch
    {
        TypeCode.Int32 or TypeCode.Int64 or TypeCode.UInt32 or TypeCode.UInt64 or TypeCode.Int16 => "integer",
        TypeCode.Boolean => "boolean (true or false)",
        TypeCode.String => "string",
        _ when type == typeof(Guid) => "id (a UUID)",
        _ when ElementType(type) is not null => "array",
        _ => "object",
    };

    [GeneratedRegex("property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex(@"\.(?<name>[A-Za-z0-9_]+)|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();
}
