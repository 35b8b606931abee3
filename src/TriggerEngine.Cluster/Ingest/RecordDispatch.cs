using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Ingest;

/// <summary>
/// The messages one calls record becomes, in the order they must be sent: one <see cref="IngestEvents"/> per
/// customer and one <see cref="RecordInterests"/> per product, split around each identify merge.
/// </summary>
/// <remarks>
/// A merge asks the anonymous profile to hand over its events, and the customer then moves the profile's product
/// interests. Both requests travel behind whatever the log sent before the merge, so everything the record holds
/// for the anonymous profile (its events, and the interests they show) goes out before the merge does. Sent at the
/// end of the record instead, a visitor's view could reach the profile after the hand-over, be forwarded, and land
/// on the customer after later events of the same record (an order that should have ended it).
/// <para>For the same reason the visitor's calls that follow the merge in the record go straight to the customer:
/// through the profile they would be forwarded, and arrive after the customer's own later calls. Across records
/// the order holds without this, because a record is acknowledged only once every entity (forwarded ones too) has
/// applied it. The first merge of a profile in a record decides; a profile merged into another customer in an
/// earlier record, then identified again, is the one case this routes differently from the profile's forwarding.</para>
/// </remarks>
public static class RecordDispatch
{
    /// <summary>The messages of either kind of record: a catalog record becomes one <see cref="UpdateCatalog"/> per product.</summary>
    public static IEnumerable<object> Messages(long seq, IIngestRecord record) => record switch
    {
        CallsRecord calls => Messages(seq, calls),
        CatalogRecord catalog => catalog.Updates.GroupBy(u => u.ProductId).Select(g => new UpdateCatalog(g.Key, g.ToArray(), seq)),
        _ => [],
    };

    public static List<object> Messages(long seq, CallsRecord calls)
    {
        var messages = new List<object>();
        var byCustomer = new Dictionary<string, List<CustomerEvent>>();
        var byProduct = new Dictionary<string, List<InterestShown>>();
        Dictionary<string, string>? mergedInto = null;
        foreach (var call in calls.Calls)
        {
            var customerId = mergedInto?.GetValueOrDefault(call.CustomerId) ?? call.CustomerId;
            if (!byCustomer.TryGetValue(customerId, out var list)) byCustomer[customerId] = list = new();
            list.Add(call.Event);
            foreach (var (productId, interest) in ProductInterests.Of(customerId, call.Event))
            {
                if (!byProduct.TryGetValue(productId, out var interests)) byProduct[productId] = interests = new();
                interests.Add(interest);
            }
            if (call.MergeAnonymousKey is not { } anonymous) continue;
            if (byCustomer.TryGetValue(anonymous, out var visitor) && visitor.Count > 0)
            {
                foreach (var e in visitor)
                foreach (var (productId, _) in ProductInterests.Of(anonymous, e))
                    FlushProduct(productId);
                messages.Add(new IngestEvents(anonymous, visitor.ToArray(), seq, calls.ReceivedAt));
                visitor.Clear();
            }
            messages.Add(new IngestEvents(customerId, list.ToArray(), seq, calls.ReceivedAt));
            messages.Add(new MergeAnonymousProfile(customerId, anonymous, seq));
            list.Clear();
            mergedInto ??= new Dictionary<string, string>();
            mergedInto.TryAdd(anonymous, customerId);
        }
        foreach (var (customerId, list) in byCustomer)
            if (list.Count > 0) messages.Add(new IngestEvents(customerId, list, seq, calls.ReceivedAt));
        foreach (var (productId, list) in byProduct)
            if (list.Count > 0) messages.Add(new RecordInterests(productId, list, seq));
        return messages;

        void FlushProduct(string productId)
        {
            if (!byProduct.TryGetValue(productId, out var interests) || interests.Count == 0) return;
            messages.Add(new RecordInterests(productId, interests.ToArray(), seq));
            interests.Clear();
        }
    }
}
