package dev.mcps.provider.bedrock;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.core.SdkNumber;
import software.amazon.awssdk.core.document.Document;

/** Vert.x JSON values ↔ the AWS SDK's {@link Document} (tool schemas and tool inputs are free-form JSON). */
final class Documents {

  private Documents() {
  }

  static Document fromJson(Object value) {
    if (value == null) {
      return Document.fromNull();
    }
    if (value instanceof JsonObject object) {
      Map<String, Document> map = new LinkedHashMap<>();
      for (String field : object.fieldNames()) {
        map.put(field, fromJson(object.getValue(field)));
      }
      return Document.fromMap(map);
    }
    if (value instanceof JsonArray array) {
      List<Document> list = new ArrayList<>(array.size());
      for (int i = 0; i < array.size(); i++) {
        list.add(fromJson(array.getValue(i)));
      }
      return Document.fromList(list);
    }
    if (value instanceof String s) {
      return Document.fromString(s);
    }
    if (value instanceof Boolean b) {
      return Document.fromBoolean(b);
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return Document.fromNumber(((Number) value).longValue());
    }
    if (value instanceof BigInteger big) {
      return Document.fromNumber(big);
    }
    if (value instanceof BigDecimal big) {
      return Document.fromNumber(big);
    }
    if (value instanceof Number n) {
      return Document.fromNumber(n.doubleValue());
    }
    return Document.fromString(String.valueOf(value));
  }

  /** A JsonObject, JsonArray, String, Long/BigInteger, Double, Boolean or null. */
  static Object toJson(Document doc) {
    if (doc == null || doc.isNull()) {
      return null;
    }
    if (doc.isMap()) {
      JsonObject object = new JsonObject();
      doc.asMap().forEach((k, v) -> object.put(k, toJson(v)));
      return object;
    }
    if (doc.isList()) {
      JsonArray array = new JsonArray();
      doc.asList().forEach(v -> array.add(toJson(v)));
      return array;
    }
    if (doc.isString()) {
      return doc.asString();
    }
    if (doc.isBoolean()) {
      return doc.asBoolean();
    }
    return number(doc.asNumber());
  }

  private static Object number(SdkNumber number) {
    String text = number.stringValue();
    if (text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0) {
      BigInteger big = new BigInteger(text);
      return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }
    return number.doubleValue();
  }
}
